#!/usr/bin/env bash
# A virtual environment with PyTorch (CPU) for `nn bench --compare`: the wheel this machine image
# ships under /opt/wheels when there is one, PyPI otherwise. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-peers
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
if ! "$venv/bin/python" -c 'import torch, numpy' 2>/dev/null; then
  wheel=$(ls /opt/wheels/torch-*+cpu-*.whl 2>/dev/null | head -n 1 || true)
  if [ -n "$wheel" ]; then
    "$venv/bin/pip" install --find-links /opt/wheels "$wheel" numpy
  else
    "$venv/bin/pip" install torch numpy
  fi
fi
"$venv/bin/python" -c 'import torch; print("torch", torch.__version__)'
