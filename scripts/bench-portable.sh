#!/usr/bin/env bash
# The package built as a dependency (no NN_TARGET_CPU: Swift's own vector code is SSE2 and fused
# multiply-adds are library calls) against the native build, alternated in one run: the reference
# model, 2 epochs of 20,000 training and 5,000 test images, seconds at the end of epoch 2.
#   bash scripts/bench-portable.sh [PAIRS] [nn train flags]
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=${1:-3}
shift $(( $# >= 1 ? 1 : 0 ))
flags=("$@")
[ ${#flags[@]} -gt 0 ] || flags=(--epochs 2 --train-limit 20000 --test-limit 5000)
NN_TARGET_CPU="${NN_TARGET_CPU:-native}" swift build -c release --product nn >/dev/null
env -u NN_TARGET_CPU swift build -c release --product nn --scratch-path .build-portable >/dev/null
run() { "$1" train "${flags[@]}" 2>&1 | awk '/^loss:/ { seconds = $(NF - 1) } END { print seconds }'; }
native=() portable=()
for pair in $(seq "$pairs"); do
  if (( pair % 2 )); then n=$(run .build/release/nn); p=$(run .build-portable/release/nn)
  else p=$(run .build-portable/release/nn); n=$(run .build/release/nn); fi
  echo "pair $pair: native $n s, as a dependency $p s"
  native+=("$n"); portable+=("$p")
done
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "median seconds: native $(median "${native[@]}"), as a dependency $(median "${portable[@]}")"
