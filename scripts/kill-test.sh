#!/usr/bin/env bash
# Kills `nn train --checkpoint` with SIGKILL at random moments, KILLS times (default 20), and
# checks after every kill that the checkpoint left behind loads; each run resumes from it. When
# a chain of runs reaches the last epoch, its final weights must be byte-identical to those of an
# uninterrupted run. Bounded: every run is killed within 0.9 s, and the final chain runs alone.
# Usage: scripts/kill-test.sh [KILLS]
set -euo pipefail
cd "$(dirname "$0")/.."
kills_wanted=${1:-20}
nn=.build/release/nn
[ -x "$nn" ] || NN_TARGET_CPU="${NN_TARGET_CPU:-native}" swift build -c release --product nn >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
args=(--units 32 --train-limit 1024 --test-limit 128 --batch-size 64 --seed 5)
epochs=16
"$nn" train --epochs $epochs "${args[@]}" --save "$work/straight.safetensors" >/dev/null

kills=0 valid=0 chains=0
run_once() {  # starts (or resumes) the chain in the background; sets pid
  if [ -f "$work/run/last.safetensors" ]; then
    "$nn" train --resume "$work/run" --epochs $epochs --save "$work/final.safetensors" >/dev/null 2>&1 &
  else
    "$nn" train --epochs $epochs "${args[@]}" --checkpoint "$work/run" --save "$work/final.safetensors" >/dev/null 2>&1 &
  fi
  pid=$!
}
finish_chain() {
  if ls -a "$work/run" | grep -q '^\.[^.].*partial-write$'; then echo "kill-test: stale temporary files left"; exit 1; fi
  cmp -s "$work/final.safetensors" "$work/straight.safetensors" || { echo "kill-test: resumed weights differ"; exit 1; }
  chains=$((chains + 1))
  rm -rf "$work/run" "$work/final.safetensors"
}
while [ $kills -lt "$kills_wanted" ]; do
  run_once
  sleep "0.$((300 + RANDOM % 600))"
  killed=0
  if kill -KILL "$pid" 2>/dev/null; then kills=$((kills + 1)); killed=1; fi
  wait "$pid" 2>/dev/null || true
  if [ -f "$work/run/last.safetensors" ]; then
    "$nn" summary --model "$work/run/last.safetensors" >/dev/null || { echo "kill-test: checkpoint unreadable after kill $kills"; exit 1; }
    valid=$((valid + killed))
  fi
  [ -f "$work/final.safetensors" ] && finish_chain
done
# Let the last chain run to its end, then compare.
while [ ! -f "$work/final.safetensors" ]; do
  run_once
  wait "$pid"
done
finish_chain
echo "kill-test: $kills SIGKILLs; after $valid of them a checkpoint was there and loaded (after the others training had not finished an epoch yet); $chains chains of resumed runs ended with the uninterrupted run's weights, byte for byte"
