#!/usr/bin/env bash
# Set up, then lint, type-check and run the whole test suite (real local Spark, moto server).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check ctc tests bench
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
