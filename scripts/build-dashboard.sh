#!/usr/bin/env bash
# Build the dashboard (dashboard/, React + Vite) into ctc/serve/static, which `ctc serve`
# serves without Node at run time. Needs Node 20+ and npm (npm 11 for Vite 8).
set -euo pipefail
cd "$(dirname "$0")/../dashboard"
npm ci --no-audit --no-fund
npm run build
