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

have() { command -v "$1" >/dev/null 2>&1 || [[ -x "/usr/sbin/$1" ]]; }
missing=0
for exe in slurmctld slurmd sbatch srun sinfo munged; do have "$exe" || missing=1; done
if [[ $missing == 0 ]]; then
  exit 0
fi
source "$(dirname "$0")/apt_install.sh"
apt_install slurm "the SLURM tests skip" slurmctld slurmd slurm-client munge
