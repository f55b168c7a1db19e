#!/usr/bin/env bash
# Set up, then lint, type-check and run the whole test suite (real local Spark, moto server,
# headless Chromium for the dashboard).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -z "${CTC_CHROMIUM:-}" ] && { ! command -v chromium >/dev/null 2>&1 \
    || ! command -v chromedriver >/dev/null 2>&1; }; then
  echo "test: installing Debian's chromium and chromium-driver for the dashboard browser test" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi
.venv/bin/ruff check ctc tests bench
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
