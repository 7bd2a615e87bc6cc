#!/usr/bin/env bash
# SLURM's daemons and client commands and munge, for the tests that start a one-node cluster
# (scripts/slurm_local.sh, tests/test_slurm.py). Idempotent: returns at once when installed.
#
#   bash scripts/install_slurm.sh      (make test runs it)
#
# Installs Debian's slurmctld, slurmd, slurm-client and munge with apt-get (root only); no service
# is configured or started (the tests run their own daemons in a temporary folder). Where that is
# not possible (not root, no apt-get, no network) it says so and exits 0: the SLURM tests skip.
set -uo pipefail

log() { printf '[install_slurm %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
have() { command -v "$1" >/dev/null 2>&1 || [[ -x "/usr/sbin/$1" ]]; }
missing=0
for exe in slurmctld slurmd sbatch srun sinfo munged; do have "$exe" || missing=1; done
if [[ $missing == 0 ]]; then
  exit 0
fi
if [[ "$(id -u)" != 0 ]] || ! have apt-get; then
  log "SLURM not installed and cannot install it here (needs root and apt-get): the SLURM tests skip"
  exit 0
fi
pkgs=(slurmctld slurmd slurm-client munge)
log "installing ${pkgs[*]} (apt-get)"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends "${pkgs[@]}" >/tmp/install_slurm.log 2>&1; then
  apt-get update -q >>/tmp/install_slurm.log 2>&1
  if ! apt-get install -y -q --no-install-recommends "${pkgs[@]}" >>/tmp/install_slurm.log 2>&1; then
    log "apt-get install failed (see /tmp/install_slurm.log): the SLURM tests skip"
    exit 0
  fi
fi
log "installed: $(dpkg-query -W -f='${Package} ${Version}  ' "${pkgs[@]}")"
