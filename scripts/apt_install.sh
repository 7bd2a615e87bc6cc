#!/usr/bin/env bash
# Installs Debian packages for a test's system dependency, or says why not; sourced by
# install_slurm.sh and install_chromium.sh after they found the packages missing.
#
#   apt_install WHAT WHAT_SKIPS PACKAGE...
#
# WHAT names the installer in its log lines and its log file (/tmp/install_WHAT.log); WHAT_SKIPS
# says what skips without the packages. Needs root and apt-get; tries `apt-get update` once when
# the first install fails. Never fails: where nothing can be installed it says so and returns 0.
apt_install() {
  local what=$1 skips=$2; shift 2
  local log_file=/tmp/install_$what.log
  say() { printf '[install_%s %s] %s\n' "$what" "$(date +%H:%M:%S)" "$*"; }
  if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    say "$* not installed and cannot be installed here (needs root and apt-get): $skips"
    return 0
  fi
  say "installing $* (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q --no-install-recommends "$@" >"$log_file" 2>&1; then
    apt-get update -q >>"$log_file" 2>&1
    if ! apt-get install -y -q --no-install-recommends "$@" >>"$log_file" 2>&1; then
      say "apt-get install failed (see $log_file): $skips"
      return 0
    fi
  fi
  say "installed: $(dpkg-query -W -f='${Package} ${Version}  ' "$@")"
}
