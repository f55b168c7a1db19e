#!/usr/bin/env bash
# The main job on the embedded default: local Spark, local files, simulated trades.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/ctc demo "$@"
