#!/usr/bin/env bash
# Install packages into a virtualenv: `bash scripts/venv-install.sh VENV PIP-ARGS...`.
# With uv (installed into VENV from PyPI first): on a fresh 2-core machine ctc's
# dependencies take about 1 min 15 s, against pip's 3.5 min (pip builds pyspark's source
# release and resolves one package at a time; uv downloads and installs in parallel). Byte
# code is compiled at install, as pip does, so no later import compiles it. Plain pip
# when uv cannot be had.
set -euo pipefail
venv=$1
shift
if [ ! -x "$venv/bin/uv" ]; then
  "$venv/bin/python" -m pip install -q uv >/dev/null 2>&1 || true
fi
if [ -x "$venv/bin/uv" ]; then
  "$venv/bin/uv" pip install -q --compile-bytecode --python "$venv/bin/python" "$@"
else
  echo "venv-install: uv is not available; installing with pip (slower)" >&2
  "$venv/bin/python" -m pip install -q --upgrade pip
  "$venv/bin/python" -m pip install -q "$@"
fi
