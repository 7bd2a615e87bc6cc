#!/usr/bin/env bash
# Train one config on a SLURM cluster, MMDetection's tools/slurm_train.sh for srtod:
#
#   bash scripts/slurm_train.sh PARTITION JOB_NAME CONFIG [GPUS] [train options ...]
#   bash scripts/slurm_train.sh gpu srtod faster_rcnn/srtod_faster-rcnn_r50_fpn_20e_droneswarms.py 8
#   GPUS_PER_NODE=4 bash scripts/slurm_train.sh gpu srtod CONFIG 8 --amp        (2 nodes x 4)
#   bash scripts/slurm_train.sh debug cpu-run CONFIG 0 --work-dir work_dirs/x   (CPU: TASKS=2)
#
# srun starts one process per GPU (GPUS, default 8; GPUS_PER_NODE per node, default 8), or with
# GPUS=0 TASKS processes on CPUs (default 2, gloo), each `python -m srtod train CONFIG --launcher
# slurm`; mmengine (or srtod on CPUs) forms the process group from SLURM's variables. A job SLURM
# requeues resumes from the work dir's last checkpoint (the random-state hook: bitwise).
# Environment: CPUS_PER_TASK (default 4), SRUN_ARGS (more srun options), PYTHON (default python),
# MASTER_PORT (default 29500).
set -euo pipefail
if [[ $# -lt 3 ]]; then
  echo "usage: $0 PARTITION JOB_NAME CONFIG [GPUS] [train options ...]" >&2; exit 2
fi
PARTITION=$1; JOB_NAME=$2; CONFIG=$3; shift 3
GPUS=8
if [[ $# -gt 0 && "$1" =~ ^[0-9]+$ ]]; then GPUS=$1; shift; fi
GPUS_PER_NODE=${GPUS_PER_NODE:-$(( GPUS < 8 ? (GPUS > 0 ? GPUS : 1) : 8 ))}
CPUS_PER_TASK=${CPUS_PER_TASK:-4}
SRUN_ARGS=${SRUN_ARGS:-}
PYTHON=${PYTHON:-python}
if [[ "$GPUS" == 0 ]]; then
  TASKS=${TASKS:-2}
  resources=(--ntasks="$TASKS" --ntasks-per-node="$TASKS")
else
  resources=(--gres="gpu:$GPUS_PER_NODE" --ntasks="$GPUS" --ntasks-per-node="$GPUS_PER_NODE")
fi
export MASTER_PORT=${MASTER_PORT:-29500}
# shellcheck disable=SC2086
exec srun -p "$PARTITION" --job-name="$JOB_NAME" "${resources[@]}" \
  --cpus-per-task="$CPUS_PER_TASK" --kill-on-bad-exit=1 ${SRUN_ARGS} \
  "$PYTHON" -u -m srtod train "$CONFIG" --launcher slurm "$@"
