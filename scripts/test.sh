#!/usr/bin/env bash
# README command 2: set up (with NVRTC for the CUDA kernels' compile test), run the short reliability passes (SIGKILL at random moments with
# resume, scripts/kill-test.sh; every fuzz target, scripts/fuzz.sh), then the whole test suite
# (release mode: the training tests run real epochs on Fashion-MNIST), then the example package that
# extends the library from outside (Examples/CustomLayer: its own layer, loss and optimizer).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh tests
export NN_TARGET_CPU="${NN_TARGET_CPU:-native}"
bash scripts/kill-test.sh 5
bash scripts/fuzz.sh 20000
swift test -c release
# A dependency may not use unsafe flags (NN_TARGET_CPU's -target-cpu): the example builds portable.
# SwiftPM keeps the example's build plan while the library (a path dependency) gains or loses
# source files; dropping the plan makes it see them (a rebuild of what changed, nothing more).
rm -f Examples/CustomLayer/.build/release.yaml
env -u NN_TARGET_CPU swift run -c release --package-path Examples/CustomLayer
