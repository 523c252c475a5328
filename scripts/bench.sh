#!/usr/bin/env bash
# The speed harness: setup, release build, PyTorch for the comparison, then `nn bench --compare`
# (one table, also written to Benchmarks/results.md). Extra arguments go to `nn bench`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/peers.sh
export NN_TARGET_CPU="${NN_TARGET_CPU:-native}"
swift build -c release --product nn
exec .build/release/nn bench --compare "$@"
