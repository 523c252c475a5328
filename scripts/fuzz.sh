#!/usr/bin/env bash
# Runs every libFuzzer target (Sources/NNFuzz) for RUNS inputs each (default 200000), built with
# -sanitize=fuzzer,address, starting from the committed seeds in Fuzz/seeds/<target>/. The corpus
# it grows stays in .build-fuzz/corpus/; crashes are written to .build-fuzz/crashes/<target>/ and
# make the script fail. Usage: scripts/fuzz.sh [RUNS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-200000}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(idx gzip safetensors png netpbm npy npz csv)
NN_FUZZ=1 swift build --scratch-path .build-fuzz --product NNFuzz >/dev/null
binary=.build-fuzz/debug/NNFuzz
status=0
for target in "${targets[@]}"; do
  corpus=.build-fuzz/corpus/$target
  crashes=.build-fuzz/crashes/$target
  mkdir -p "$corpus" "$crashes"
  log=$(mktemp)
  start=$(date +%s)
  if NN_FUZZ_TARGET=$target SWIFT_BACKTRACE=enable=no "$binary" -runs="$runs" -max_len=65536 -timeout=10 \
      -rss_limit_mb=2048 -artifact_prefix="$crashes/" -print_final_stats=1 "$corpus" "Fuzz/seeds/$target" >"$log" 2>&1; then
    result=ok
  else
    result=FAILED
    status=1
  fi
  seconds=$(( $(date +%s) - start ))
  coverage=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
  executed=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
  printf '%-12s %-6s runs %-9s coverage %-6s corpus %-5s %ss\n' "$target" "$result" "${executed:-?}" "${coverage:-?}" \
    "$(ls "$corpus" | wc -l)" "$seconds"
  [ "$result" = ok ] || tail -n 40 "$log"
  rm -f "$log"
done
exit $status
