#!/usr/bin/env bash
# Installs everything, then replays the bundled demo call through the live path.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install.sh
exec .venv/bin/calmline demo "$@"
