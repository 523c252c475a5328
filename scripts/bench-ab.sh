#!/usr/bin/env bash
# The reference model before and after a change, in one run: builds `nn` at git revision REV in a
# worktree under /tmp (and this checkout as it is), then alternates the two binaries, PAIRS times
# each, on the same reduced epochs, and prints the seconds of each run and their medians. Losses
# are printed too: a change meant to keep results must show identical ones.
#   bash scripts/bench-ab.sh REV [PAIRS] [extra nn train flags]
# Default flags: 2 epochs of 20,000 training and 5,000 test images (about a third of an epoch
# each), the reference model and settings.
set -euo pipefail
cd "$(dirname "$0")/.."
revision=${1:?usage: bench-ab.sh REV [PAIRS] [nn train flags]}
pairs=${2:-4}
shift $(( $# >= 2 ? 2 : 1 ))
flags=("$@")
[ ${#flags[@]} -gt 0 ] || flags=(--epochs 2 --train-limit 20000 --test-limit 5000)
export NN_TARGET_CPU="${NN_TARGET_CPU:-native}"
before=/tmp/nn-bench-ab-$(git rev-parse --short "$revision")
if [ ! -x "$before/.build/release/nn" ]; then
  rm -rf "$before"
  git worktree add -f --detach "$before" "$revision" >/dev/null
  (cd "$before" && swift build -c release --product nn >/dev/null)
fi
swift build -c release --product nn >/dev/null
run() {  # prints "seconds losses" of one run
  "$1" train "${flags[@]}" 2>&1 | awk '/^loss:/ { losses = losses " " $2 "/" $4; seconds = $(NF - 1) }
                                         END { print seconds, losses }'
}
declare -a old new
for pair in $(seq "$pairs"); do
  if (( pair % 2 )); then a=$(run "$before/.build/release/nn"); b=$(run .build/release/nn)
  else b=$(run .build/release/nn); a=$(run "$before/.build/release/nn"); fi
  echo "pair $pair: before $a | after $b"
  old+=("${a%% *}"); new+=("${b%% *}")
done
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "median seconds: before $(median "${old[@]}") ($revision), after $(median "${new[@]}") (this checkout)"
