#!/usr/bin/env bash
# Headless Chromium for the browser test of report.html (tests/report/test_report_browser.py).
# Debian's packages; run as root. Does nothing when Chromium is already there.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends chromium chromium-driver
