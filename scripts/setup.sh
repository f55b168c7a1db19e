#!/usr/bin/env bash
# Set up ctc on a fresh machine: Java 17 for Spark (apt-get, when missing), a virtualenv
# in .venv, and the package with its dev tools. Safe to run again; it skips what is done.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v java >/dev/null 2>&1; then
  echo "setup: installing Java 17 for Spark (apt-get)" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq openjdk-17-jre-headless >/dev/null
fi

PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "setup: Python 3.11 or newer is needed (found $("$PY" --version 2>&1))" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv" >&2
  "$PY" -m venv .venv
fi
stamp=.venv/.ctc-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing ctc and its dependencies into .venv (first time: a few minutes)" >&2
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev]'
  touch "$stamp"
fi

# checkov (tests/infra) in its own virtualenv: its pins clash with ctc's dependencies.
# The version is the one of the `checkov` extra in pyproject.toml.
ckstamp=.venv-checkov/.ctc-installed
if [ ! -f "$ckstamp" ] || [ pyproject.toml -nt "$ckstamp" ]; then
  echo "setup: installing checkov into .venv-checkov (first time: about a minute)" >&2
  req=$(.venv/bin/python -c 'import tomllib; print(" ".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["checkov"]))')
  [ -x .venv-checkov/bin/python ] || "$PY" -m venv .venv-checkov
  .venv-checkov/bin/python -m pip install -q --upgrade pip
  # shellcheck disable=SC2086
  .venv-checkov/bin/python -m pip install -q $req
  touch "$ckstamp"
fi
