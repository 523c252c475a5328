#!/usr/bin/env bash
# The CUDA issue's checks on a lent GPU machine (the device tool: no Swift there, 16 cores).
#
# Here, first:   bash scripts/device-check.sh prepare
#   builds nn with the Swift runtime linked in (--static-swift-stdlib) and packs it with the shared
#   libraries it needs that a bare machine may lack (OpenBLAS, libgfortran, libpng, …; not glibc)
#   and the Fashion-MNIST files into .build-device/bundle.tar.xz (under the device tool's 64 MiB),
#   then prints the call.
# There:         bash scripts/device-check.sh            (run with carry [".build-device/bundle.tar.xz"])
#   1. unpacks the bundle, says which libraries are still missing, runs "${nn[@]}" --version;
#   2. "${nn[@]}" cuda --check: every GPU kernel and cuBLAS (float32 and bf16) against the CPU path
#      (1e-4), every loss, optimizer and clipping kernel too, then 2 epochs of four models through
#      CUDABackend against the CPU's (1e-3 per epoch's loss; one with Adam, binary cross-entropy and
#      clipping), and the reference model in bf16; NVRTC from the CUDA toolkit there (or NN_NVRTC);
#   3. nn bench --device cuda --compare: 3 epochs of the reference model on the GPU in float32 and
#      in bf16 (the model there as a whole, its steps replayed as CUDA graphs) and PyTorch's (cuDNN, scripts/peers/
#      torch_bilstm.py): the figure to beat by 1.25×, in $OUT/gpu-bench.md for Benchmarks/results.md;
#   3b. nn train --device cuda, 3 epochs, then 2 with the steps enqueued call by call (NN_CUDA_GRAPHS=0);
#   4. CPU scaling: the reference epoch with --threads 2, 4, 8, 16 (issue 12's table), PyTorch's too;
#   5. one epoch of the cnn-bn preset on the GPU and on the CPU: the window and batch-normalisation
#      kernels at full size, the two losses side by side.
# Everything is written to $OUT/device-check.txt (and echoed). Each part runs even if one before failed.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = prepare ]; then
  set -e
  export NN_TARGET_CPU="${NN_DEVICE_TARGET_CPU:-haswell}"  # AVX2 + FMA: any x86 server CPU of the last decade
  # OpenBLAS linked in from its static archive (a folder with a link to it, searched before the
  # shared one: 36 MB less to carry); libpng, zlib and FoundationNetworking's curl stay shared
  # (carried below; Debian ships no static libcurl).
  archives=.build-device/archives
  mkdir -p "$archives"
  rm -f "$archives"/*.a "$archives"/*.so
  ln -sf /usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.a "$archives/libopenblas.a"
  ln -sf /usr/lib/x86_64-linux-gnu/libcurl.so.4 "$archives/libcurl.so"  # -lcurl without libcurl-dev
  swift build -c release --product nn --static-swift-stdlib --scratch-path .build-device -Xlinker -L"$PWD/$archives"
  stage=$(mktemp -d)
  mkdir -p "$stage/nn-device/lib"
  strip -o "$stage/nn-device/nn" .build-device/release/nn
  # Every library nn loads except glibc's own and the GCC runtime's (newer on the device, and
  # backward compatible; an older copy would shadow them for PyTorch).
  ldd .build-device/release/nn | awk '/=> \// {print $3}' \
    | grep -vE '/(libc|libm|libdl|librt|libpthread|ld-linux[^/]*|libstdc\+\+|libgcc_s)\.so' \
    | while read -r library; do cp -L "$library" "$stage/nn-device/lib/"; done
  # The default data, which the device machine lacks (Debian's dataset-fashion-mnist).
  mkdir -p "$stage/nn-device/data"
  cp /usr/share/datasets/fashion-mnist/*-ubyte.gz "$stage/nn-device/data/"
  tar -C "$stage" -cJf .build-device/bundle.tar.xz nn-device
  rm -rf "$stage"
  ls -la .build-device/bundle.tar.xz
  echo 'device tool: run(command="bash scripts/device-check.sh", carry=[".build-device/bundle.tar.xz"], timeout_s=480)'
  exit 0
fi

out="${OUT:-/tmp/device-check}"
mkdir -p "$out"
exec > >(tee "$out/device-check.txt") 2>&1
echo "== device check $(date -u +%FT%TZ) on $(hostname): $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p')"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | sed 's/^/gpu: /'

echo "== 1. the carried binary"
work=/tmp/nn-device
rm -rf "$work" && mkdir -p "$work"
tar -C /tmp -xJf .build-device/bundle.tar.xz || { echo "no .build-device/bundle.tar.xz: run 'prepare' here and carry it"; exit 1; }
# The carried libraries for nn alone (PyTorch keeps the machine's own), then CUDA's for cuBLAS.
libraries="$work/lib"
for cuda in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do
  [ -d "$cuda" ] && libraries="$libraries:$cuda"
done
nn=(env "LD_LIBRARY_PATH=$libraries${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$work/nn")
LD_LIBRARY_PATH="$libraries" ldd "$work/nn" | grep "not found" && echo "(libraries above are missing)"
"${nn[@]}" --version

echo "== 2. GPU kernels against the CPU"
if [ -z "${NN_NVRTC:-}" ]; then
  # The CUDA toolkit's, else the one PyTorch's CUDA wheels installed (nvidia/cu*/lib or nvidia/cuda_nvrtc/lib).
  NN_NVRTC=$(find /usr/local/cuda* /usr/lib/x86_64-linux-gnu -name 'libnvrtc.so*' 2>/dev/null | grep -v builtins | sort | tail -1)
  [ -n "$NN_NVRTC" ] || NN_NVRTC=$(python3 -c 'import glob, site
print(*sorted(f for d in site.getsitepackages() for f in glob.glob(d + "/nvidia/*/lib/libnvrtc.so*") if "builtins" not in f)[-1:])' 2>/dev/null)
fi
[ -n "$NN_NVRTC" ] && export NN_NVRTC
echo "NVRTC: ${NN_NVRTC:-none found (nn looks for libnvrtc.so.13 or .12 on the library path)}"
"${nn[@]}" cuda --check

data="$work/data"
echo "== 3. the reference model on the GPU, ours and PyTorch's (cuDNN): nn bench --device cuda --compare"
if [ -d "$data" ]; then
  timeout 420 "${nn[@]}" bench --device cuda --compare --python "$(command -v python3)" --peer-script scripts/peers/torch_bilstm.py \
    --data "$data" --output "$OUT/gpu-bench.md" 2>&1 | grep -v '^# '
else
  echo "no Fashion-MNIST in the bundle: prepare it again"
fi

echo "== 3b. the reference model on the GPU as a whole (CUDAModel), 3 epochs: the first compiles the kernels"
if [ -d "$data" ]; then
  timeout 240 "${nn[@]}" train --data "$data" --epochs 3 --device cuda 2>&1 | grep -E '^loss|error|warning'
  echo "the same, steps enqueued call by call (NN_CUDA_GRAPHS=0):"
  NN_CUDA_GRAPHS=0 timeout 240 "${nn[@]}" train --data "$data" --epochs 2 --device cuda 2>&1 | grep -E '^loss|error|warning'
fi

echo "== 4. CPU scaling of the reference epoch (train + test)"
if [ -d "$data" ]; then
  for threads in 2 4 8 16; do
    echo "nn train --threads $threads: $(timeout 120 "${nn[@]}" train --data "$data" --epochs 1 --threads "$threads" | grep '^loss')"
  done
  timeout 200 python3 scripts/peers/torch_bilstm.py --device cpu --epochs 1 --threads 16 --data "$data" | tail -2
fi

echo "== 5. the convolutional forms at full size: cnn-bn (convolutions, batch normalisation, pooling), 1 epoch on the GPU and on 16 cores"
if [ -d "$data" ]; then
  echo "GPU: $(timeout 90 "${nn[@]}" train --preset cnn-bn --data "$data" --epochs 1 --device cuda 2>&1 | grep -E '^loss|error|warning')"
  echo "CPU: $(timeout 120 "${nn[@]}" train --preset cnn-bn --data "$data" --epochs 1 --threads 16 2>&1 | grep -E '^loss|error')"
fi
echo "== done"
