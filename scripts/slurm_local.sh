#!/usr/bin/env bash
# A single-node SLURM cluster on this machine, everything in one folder (for the tests, or to try
# the SLURM executor without a cluster):
#
#   bash scripts/slurm_local.sh start DIR     # munged + slurmctld + slurmd, waits for the node idle
#   export SLURM_CONF=DIR/slurm.conf          # what sbatch/srun/squeue/sinfo need to find it
#   bash scripts/slurm_local.sh stop DIR      # stops the three daemons started in DIR
#
# DIR holds slurm.conf, a munge key and socket of its own, the state, spool, pid and log files;
# no system file is changed and no system service is started. The node is this host (`hostname -s`)
# with the CPUs and memory `slurmd -C` reports; one partition `debug` (the default). Daemons run
# as the calling user (root in CI; SlurmUser=root). Ports: SRTOD_SLURM_PORT (slurmctld, default
# 6817) and the next one (slurmd). Needs slurmctld, slurmd, slurm-client and munge
# (scripts/install_slurm.sh). Exit status 3: a daemon did not come up (its log is printed).
set -euo pipefail

cmd="${1:-}"; dir="${2:-}"
if [[ -z "$cmd" || -z "$dir" ]]; then
  echo "usage: $0 start|stop DIR" >&2; exit 2
fi
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"

stop_pid() {  # stop_pid PIDFILE: TERM the daemon of that pid file, KILL after 10 s
  local f="$1" pid
  [[ -f "$f" ]] || return 0
  pid="$(cat "$f" 2>/dev/null || true)"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

# the processes of this cluster left after its daemons: its job steps (slurmstepd) and its jobs'
# own processes (SLURM_JOB_ID set), known by the SLURM_CONF in their environment; never the
# calling shell or a user's shell that merely exports SLURM_CONF
leftovers() {
  local p pid env
  for p in /proc/[0-9]*; do
    pid="${p#/proc/}"
    env="$( { tr '\0' '\n' < "$p/environ"; } 2>/dev/null )" || continue
    grep -qx "SLURM_CONF=$dir/slurm.conf" <<<"$env" || continue
    if [[ "$(cat "$p/comm" 2>/dev/null)" == slurmstepd ]] || grep -q '^SLURM_JOB_ID=' <<<"$env"; then
      echo "$pid"
    fi
  done
}

if [[ "$cmd" == stop ]]; then
  if [[ -f "$dir/slurmctld.pid" ]] && kill -0 "$(cat "$dir/slurmctld.pid")" 2>/dev/null; then
    # cancel this cluster's jobs first, so that their steps end while slurmd still listens
    SLURM_CONF="$dir/slurm.conf" scancel --user "$(id -un)" 2>/dev/null || true
    for _ in $(seq 40); do
      [[ -z "$(SLURM_CONF="$dir/slurm.conf" squeue -h 2>/dev/null)" ]] && break; sleep 0.25
    done
  fi
  stop_pid "$dir/slurmd.pid"
  stop_pid "$dir/slurmctld.pid"
  stop_pid "$dir/munged.pid"
  pids="$(leftovers)"
  if [[ -n "$pids" ]]; then
    kill $pids 2>/dev/null || true; sleep 1
    pids="$(leftovers)"; [[ -n "$pids" ]] && kill -9 $pids 2>/dev/null || true
  fi
  exit 0
fi
[[ "$cmd" == start ]] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

for exe in munged slurmctld slurmd sinfo sbatch; do
  if ! command -v "$exe" >/dev/null 2>&1 && [[ ! -x "/usr/sbin/$exe" ]]; then
    echo "slurm_local: $exe not found (install: bash scripts/install_slurm.sh)" >&2; exit 4
  fi
done
export PATH="$PATH:/usr/sbin"
port="${SRTOD_SLURM_PORT:-6817}"
host="$(hostname -s)"
user="$(id -un)"
# CPUs, sockets, cores, threads, memory of this machine as slurmd sees them
node="$(slurmd -C | head -1 | sed 's/^NodeName=[^ ]*//')"
mkdir -p "$dir/state" "$dir/spool" "$dir/log" "$dir/munge"
chmod 700 "$dir/munge"

cat > "$dir/slurm.conf" <<EOF
# written by scripts/slurm_local.sh: a one-node test cluster on $host
ClusterName=srtod-local
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=$user
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/%n
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
# a job killed or requeued is not held back by the defaults meant for big clusters
KillWait=5
MinJobAge=300
SlurmdTimeout=60
InactiveLimit=0
NodeName=$host NodeAddr=127.0.0.1$node State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF

# munge: a key of its own and its own socket (the system's munged, if any, is left alone)
[[ -f "$dir/munge/munge.key" ]] || mungekey -c -k "$dir/munge/munge.key" >/dev/null 2>&1 \
  || dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$dir/munge/munge.key"

fail() {  # fail WHAT LOG
  echo "slurm_local: $1 did not start; last lines of $2:" >&2
  tail -n 20 "$2" >&2 2>/dev/null || true
  bash "$0" stop "$dir" || true
  exit 3
}
munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
  --pid-file="$dir/munged.pid" --log-file="$dir/log/munged.log" \
  --seed-file="$dir/munge/munged.seed" || fail munged "$dir/log/munged.log"

export SLURM_CONF="$dir/slurm.conf"
slurmctld -f "$dir/slurm.conf" || fail slurmctld "$dir/log/slurmctld.log"
slurmd -f "$dir/slurm.conf" || fail slurmd "$dir/log/slurmd.log"

# wait (up to 60 s) until the node is idle
for _ in $(seq 120); do
  state="$(sinfo -h -N -n "$host" -o '%T' 2>/dev/null | head -1 || true)"
  [[ "$state" == idle ]] && { echo "slurm_local: $host idle (SLURM_CONF=$dir/slurm.conf)"; exit 0; }
  sleep 0.5
done
echo "slurm_local: node $host is '${state:-unknown}' after 60 s" >&2
fail slurmd "$dir/log/slurmd.log"
