#!/usr/bin/env bash
# The convolutional presets trained to the end, ours and PyTorch's same model (scripts/peers/torch_cnn.py),
# one after the other, each with its peak memory (GNU time's maximum resident set): the accuracy
# table of Benchmarks/results.md. Logs go to LOGDIR (default /tmp/cnn-accuracy). Needs a built nn
# and the peers' Python (bash scripts/peers.sh). About an hour on 2 cores.
#   bash scripts/cnn-accuracy.sh [PRESET …]      (default: cnn cnn-pool cnn-he cnn-bn separable)
set -euo pipefail
cd "$(dirname "$0")/.."
logs="${LOGDIR:-/tmp/cnn-accuracy}"
mkdir -p "$logs"
python="${PYTHON:-.venv-peers/bin/python}"
presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(cnn cnn-pool cnn-he cnn-bn separable)
for preset in "${presets[@]}"; do
  epochs=$(.build/release/nn presets "$preset" | sed -n 's/^epochs: *\([0-9]*\).*/\1/p')
  /usr/bin/time -v .build/release/nn train --preset "$preset" --history "$logs/$preset-ours.json" \
    > "$logs/$preset-ours.log" 2> "$logs/$preset-ours.time"
  /usr/bin/time -v "$python" scripts/peers/torch_cnn.py --preset "$preset" --epochs "$epochs" --threads 2 \
    > "$logs/$preset-torch.log" 2> "$logs/$preset-torch.time"
  echo "$preset ($epochs epochs): ours $(tail -1 "$logs/$preset-ours.log" | cut -c1-60), $(grep -h 'Maximum resident' "$logs/$preset-ours.time" | sed 's/.*: //') KB;" \
       "PyTorch $(grep '^epoch' "$logs/$preset-torch.log" | tail -1), $(grep -h 'Maximum resident' "$logs/$preset-torch.time" | sed 's/.*: //') KB"
done
