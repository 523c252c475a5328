#!/usr/bin/env bash
# The mlp preset against PyTorch's same model (scripts/peers/torch_mlp.py), alternated ROUNDS
# times in one run: this host's load swings within a minute, so single runs mislead. Each round
# prints the second epoch's seconds (training + test) of PyTorch, then of ours; then the medians.
#   bash scripts/mlp-vs-torch.sh [ROUNDS] [PYTHON]     (PYTHON: with torch; scripts/peers.sh makes one)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-4}
python=${2:-.venv-peers/bin/python}
export NN_TARGET_CPU="${NN_TARGET_CPU:-native}"
swift build -c release --product nn >/dev/null
declare -a theirs ours
for round in $(seq "$rounds"); do
  t=$("$python" scripts/peers/torch_mlp.py --epochs 2 --threads 2 | tail -n 1 |
      "$python" -c 'import json, sys; print("%.2f" % json.loads(sys.stdin.read())["seconds_per_epoch_with_eval"][1])')
  o=$(.build/release/nn train --preset mlp --epochs 2 | awk '/^loss:/ { s[++n] = $(NF - 1) } END { printf "%.2f", s[2] - s[1] }')
  echo "round $round: PyTorch $t s, ours $o s"
  theirs+=("$t"); ours+=("$o")
done
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
a=$(median "${theirs[@]}"); b=$(median "${ours[@]}")
echo "medians: PyTorch $a s, ours $b s; PyTorch ÷ ours $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }')× (> 1: we are faster)"
