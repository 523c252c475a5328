#!/usr/bin/env bash
# Data parallelism on this machine: the reference model's epoch (train + test) in one process with
# 2 threads against 2 Open MPI ranks with 1 thread each, alternated ROUNDS times (default 2) so
# that both see the same machine; then each run's allreduce figures. Needs a built nn.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-2}"; shift || true
nn=.build/release/nn
launch=(mpirun -np 2)
[ "$(id -u)" -eq 0 ] && launch+=(--allow-run-as-root)
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(date -u +%F)"
for round in $(seq "$rounds"); do
  one=$("$nn" train --epochs 1 --threads 2 "$@" | grep -E '^loss:' | sed 's/.*step 1  //')
  two=$("${launch[@]}" "$nn" train --epochs 1 --threads 1 "$@")
  echo "round $round: 1 process × 2 threads: $one; 2 ranks × 1 thread: $(grep -E '^loss:' <<<"$two" | sed 's/.*step 1  //')"
  grep -E '^(data parallel|allreduce)' <<<"$two"
done
