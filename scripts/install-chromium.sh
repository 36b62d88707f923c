#!/usr/bin/env bash
# Debian's headless Chromium, for the browser test of report.html
# (tests/reports/test_report_browser.py). Does nothing when Chromium is already there;
# uses sudo when not run as root.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
