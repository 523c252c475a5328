#!/usr/bin/env bash
# Installs what NeuralNetworks needs from Debian, once: OpenBLAS, zlib, libpng, the Fashion-MNIST
# files (real Fashion-MNIST in the MNIST IDX format, the default data), and Open MPI's mpirun and
# run-time library (openmpi-bin: `mpirun -np 2 nn train` and its tests; nothing links it). Idempotent.
set -euo pipefail
packages=(libopenblas-dev zlib1g-dev libpng-dev dataset-fashion-mnist gzip openmpi-bin)
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
