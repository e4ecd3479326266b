#!/usr/bin/env bash
# Test command: set up what is missing, then the default test suite (slow tests excluded).
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -m slow` for the long tests).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup.sh"
cd "$root"
if [ "$#" -eq 0 ]; then set -- -m "not slow"; fi
exec .venv/bin/python -m pytest -q "$@"
