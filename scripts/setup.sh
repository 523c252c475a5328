#!/usr/bin/env bash
# Installs what NeuralNetworks needs from Debian, once: OpenBLAS, zlib, libpng, the Fashion-MNIST
# files (real Fashion-MNIST in the MNIST IDX format, the default data), and Open MPI's mpirun and
# run-time library (openmpi-bin: `mpirun -np 2 nn train` and its tests; nothing links it). Idempotent.
# `setup.sh tests` adds what only the tests need: NVRTC, NVIDIA's run-time CUDA compiler, from
# PyPI's nvidia-cuda-nvrtc wheel in .venv-nvrtc (the CUDA kernels' compile test; no GPU needed).
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(libopenblas-dev zlib1g-dev libpng-dev dataset-fashion-mnist gzip openmpi-bin)
[ "${1:-}" = tests ] && packages+=(python3-venv)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y "${missing[@]}"
fi
command -v swift >/dev/null || { echo "setup: Swift 6 is needed (swift.org/install)" >&2; exit 1; }
if [ "${1:-}" = tests ] && ! compgen -G ".venv-nvrtc/lib/python3*/site-packages/nvidia/cu13/lib/libnvrtc.so.13" >/dev/null; then
  rm -rf .venv-nvrtc
  python3 -m venv .venv-nvrtc
  .venv-nvrtc/bin/pip install --quiet "nvidia-cuda-nvrtc==13.*"
fi
