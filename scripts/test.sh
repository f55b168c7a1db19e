#!/usr/bin/env bash
# Set up, then lint, type-check and run the whole test suite (real local Spark, moto server,
# headless Chromium for the dashboard).
set -euo pipefail
cd "$(dirname "$0")/.."
# checkov (tests/infra) in its own virtualenv: its pins clash with ctc's dependencies.
# The version is the one of the `checkov` extra in pyproject.toml. Installed while
# scripts/setup.sh runs (on a fresh machine each takes a minute or more).
ckstamp=.venv-checkov/.ctc-installed
checkov_pid=""
if [ ! -f "$ckstamp" ] || [ pyproject.toml -nt "$ckstamp" ]; then
  echo "test: installing checkov into .venv-checkov (first time: about a minute)" >&2
  (
    set -euo pipefail
    py="${PYTHON:-python3}"
    req=$("$py" -c 'import tomllib; print(" ".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["checkov"]))')
    [ -x .venv-checkov/bin/python ] || "$py" -m venv .venv-checkov
    # shellcheck disable=SC2086
    bash scripts/venv-install.sh .venv-checkov $req
    touch "$ckstamp"
  ) &
  checkov_pid=$!
fi
bash scripts/setup.sh
if [ -n "$checkov_pid" ] && ! wait "$checkov_pid"; then
  echo "test: installing checkov into .venv-checkov failed" >&2
  exit 1
fi
if [ -z "${CTC_CHROMIUM:-}" ] && { ! command -v chromium >/dev/null 2>&1 \
    || ! command -v chromedriver >/dev/null 2>&1; }; then
  echo "test: installing Debian's chromium and chromium-driver for the dashboard browser test" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi
.venv/bin/ruff check ctc tests bench
.venv/bin/mypy
# two worker processes, a test file each at a time (its fixtures stay together): on 2
# cores the suite takes about 0.8 of its time in one process, which keeps the CPU only 75 %
# busy (JVM starts, subprocess runs, Python work). CTC_TEST_WORKERS=0,
# or `-n 0` among the arguments, runs it in this process (for -x, --pdb, a quiet machine).
.venv/bin/python -m pytest -n "${CTC_TEST_WORKERS:-2}" --dist loadfile --no-loadscope-reorder "$@"
