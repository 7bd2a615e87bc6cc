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

log() { printf '[install_chromium %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; then
  exit 0
fi
if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
  log "Chromium not installed and cannot install it here (needs root and apt-get): the browser check skips"
  exit 0
fi
pkgs=(chromium chromium-driver)
log "installing ${pkgs[*]} (apt-get)"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends "${pkgs[@]}" >/tmp/install_chromium.log 2>&1; then
  apt-get update -q >>/tmp/install_chromium.log 2>&1
  if ! apt-get install -y -q --no-install-recommends "${pkgs[@]}" >>/tmp/install_chromium.log 2>&1; then
    log "apt-get install failed (see /tmp/install_chromium.log): the browser check skips"
    exit 0
  fi
fi
log "installed: $(dpkg-query -W -f='${Package} ${Version}  ' "${pkgs[@]}")"
