#!/usr/bin/env bash
# `nn train` over Open MPI on this machine: set up (openmpi-bin with the rest), build, and start
# RANKS processes (default 2) with one thread each; extra arguments go to `nn train`, e.g.
# `scripts/train-mpi.sh 2 --epochs 1 --checkpoint run/`. Several machines: see the README.
set -euo pipefail
cd "$(dirname "$0")/.."
ranks="${1:-2}"
[ $# -gt 0 ] && shift
case "$ranks" in ''|*[!0-9]*|0) echo "train-mpi: the first argument is the number of processes (1 or more), got $ranks" >&2; exit 64;; esac
bash scripts/setup.sh
export NN_TARGET_CPU="${NN_TARGET_CPU:-native}"
swift build -c release --product nn
launch=(mpirun -np "$ranks")
# Open MPI refuses root unless told; more processes than cores needs --oversubscribe.
[ "$(id -u)" -eq 0 ] && launch+=(--allow-run-as-root)
[ "$ranks" -gt "$(nproc)" ] && launch+=(--oversubscribe)
exec "${launch[@]}" .build/release/nn train --threads 1 "$@"
