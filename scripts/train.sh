#!/usr/bin/env bash
# README command 1: set up, build `nn` in release mode for this CPU, and train the reference
# model (bidirectional LSTM 128 → dense softmax, 30 epochs) on Fashion-MNIST.
# Extra arguments go to `nn train`, e.g. `scripts/train.sh --epochs 1`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export NN_TARGET_CPU="${NN_TARGET_CPU:-native}"
swift build -c release --product nn
exec .build/release/nn train "$@"
