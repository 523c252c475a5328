#!/usr/bin/env bash
# README command 2: set up and run the whole test suite (release mode: the training tests
# run real epochs on Fashion-MNIST).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export NN_TARGET_CPU="${NN_TARGET_CPU:-native}"
swift test -c release
