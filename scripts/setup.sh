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
  echo "setup: installing ctc and its dependencies into .venv (first time: a minute or two)" >&2
  bash scripts/venv-install.sh .venv -e '.[dev]'
  touch "$stamp"
fi

# the JVM class archive (ctc/runtime/jvm_archive.py): every later Spark start is faster
.venv/bin/python -m ctc.runtime.jvm_archive || echo "setup: no JVM class archive; ctc runs without one" >&2

# the known-wallet labels the on-chain detectors read (git-ignored, docs/ingest.md): the
# real label sets of ../shared when they are there, else the hand-kept list alone
if [ ! -f detectors/reference/labels/known_wallets.csv ]; then
  .venv/bin/ctc labels load 2>/dev/null || .venv/bin/ctc labels load --seed-only
fi
