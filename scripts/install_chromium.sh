#!/usr/bin/env bash
# Debian's Chromium and its driver, for the report's browser check (srtod/report/site.py,
# tests/test_report_site.py). Idempotent: returns at once when installed.
#
#   bash scripts/install_chromium.sh      (make report and make test run it)
#
# Installs Debian's chromium and chromium-driver with apt-get (root only); nothing is configured.
# Where that is not possible (not root, no apt-get, no network) it says so and exits 0: the browser
# test skips and `make report` builds the site without checking it.
set -uo pipefail

if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; then
  exit 0
fi
source "$(dirname "$0")/apt_install.sh"
apt_install chromium "the browser check skips" chromium chromium-driver
