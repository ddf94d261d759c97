#!/usr/bin/env bash
# Installs everything, sets up the virtual audio devices, then runs the checks and the
# whole test suite. This is the README's test command; CI runs it.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install.sh
bash scripts/virtual-audio.sh
bash scripts/rt-server.sh start
bash scripts/postgres-server.sh start

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== import contracts (Qt only in ui/)"
.venv/bin/lint-imports
echo "== pytest"
.venv/bin/python -m pytest -ra "$@"
echo "== reliability (RELIABILITY.md)"
.venv/bin/python scripts/reliability_report.py
