#!/usr/bin/env bash
# The README's test command: install what the app and the tests need, then run every test.
# Works on a fresh Debian/Ubuntu machine: Python packages from PyPI, Chromium and nginx from the distro
# (Playwright drives the system browser; it never downloads one).
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q -r requirements.txt -r tests/requirements.txt
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  echo "installing chromium for the browser tests"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get install -y -q chromium >/dev/null 2>&1 || { $SUDO apt-get update -q && $SUDO apt-get install -y -q chromium; }
fi
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  echo "installing nginx for the replicas test (tests/test_replicas.py)"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get install -y -q nginx >/dev/null 2>&1 || { $SUDO apt-get update -q && $SUDO apt-get install -y -q nginx; }
fi
export HF_HUB_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 GRADIO_ANALYTICS_ENABLED=False
export ARCHDEMO_DATA_DIR="${ARCHDEMO_DATA_DIR:-$(cd .. && pwd)/shared/data}"
python -m ruff check .
python -m pytest "$@"
