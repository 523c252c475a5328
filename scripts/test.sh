#!/usr/bin/env bash
# README command 2: set up, run the short reliability passes (SIGKILL at random moments with
# resume, scripts/kill-test.sh; every fuzz target, scripts/fuzz.sh), then the whole test suite
# (release mode: the training tests run real epochs on Fashion-MNIST).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export NN_TARGET_CPU="${NN_TARGET_CPU:-native}"
bash scripts/kill-test.sh 5
bash scripts/fuzz.sh 20000
swift test -c release
