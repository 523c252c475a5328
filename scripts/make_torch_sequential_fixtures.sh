#!/usr/bin/env bash
# Writes the models of the PyTorch-interop fixtures with `nn export`: for each spec below, a small
# model trained one epoch (any weights do), exported as Tests/.../Fixtures/torch_sequential/NAME.py
# (the torch.nn.Sequential) and NAME.safetensors (its state_dict, with the architecture in the
# metadata). scripts/make_fixtures.py then builds each NAME.py in PyTorch, gives it random weights,
# and replaces NAME.safetensors with PyTorch's state_dict (the metadata kept) and NAME.json with
# an input and PyTorch's output. Usage: bash scripts/make_torch_sequential_fixtures.sh [PYTHON]
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-/tmp/torchenv/bin/python}
out=Tests/NeuralNetworksTests/Fixtures/torch_sequential
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
swift build -c release --product nn
declare -A specs=(
  [mlp]="flatten dense(16, relu) dropout(0.5) dense(12, elu) dense(12, leaky_relu) dense(12, softplus) dense(classes, softmax)"
  [graph]="flatten gaussian_noise(0.1) dense(8, tanh) residual([dense(8, gelu), dense(8)]) residual([dense(6, sigmoid)], projection=dense(6, use_bias=false)) concatenate([dense(4), chain([dense(5, swish), dense(3)])]) activation(hard_sigmoid) dense(classes, softmax)"
  [recurrent]="bilstm(6, return_sequences=true) bilstm(5) dense(classes, softmax)"
  [backwards]="lstm(5, return_sequences=true, go_backwards=true) reshape([-1]) dense(classes)"
  [standardized]="flatten dense(8, relu) dense(classes, softmax)"
  [simple_rnn]="simplernn(6, relu, return_sequences=true, go_backwards=true) bisimplernn(5) dense(classes, softmax)"
  [gru]="gru(6, return_sequences=true, go_backwards=true) bigru(5) dense(classes, softmax)"
  [time_distributed]="gru(6, return_sequences=true) timedistributed(dense(4, relu)) timedistributed(flatten) flatten dense(classes, softmax)"
  [merged]="bi(gru(6, return_sequences=true), merge: ave) bi(simple_rnn(5, return_sequences=true), mul) bi(lstm(4), sum) dense(classes, softmax)"
  [cnn]="conv(4, 3x3, relu, padding=same, strides=2) maxpool(2x2, padding=same) batchnorm depthwise(2x2, depth_multiplier=2) avgpool(2x2) separable(3, 2x2, relu) gap dense(classes, softmax)"
  [conv1d]="conv1d(4, 3, relu, padding=same, strides=2) conv1d(3, 2, dilation=2, padding=causal) conv1d(3, 2, use_bias=false) lstm(4) dense(classes, softmax)"
  [attention]="dense(8) positions mha(2, dropout=0.1) layernorm mha(4, causal: true) residual([mha(2, use_bias=false)]) globalaveragepooling1d dense(classes, softmax)"
  [pooling1d]="conv1d(4, 3, relu, padding=same) maxpool1d(3, 2) avgpool1d(2, padding=same) conv1d(3, 2) maxpool1d(2, padding=same) flatten dense(classes, softmax)"
  [conv_transpose]="conv(4, 3x3, relu, strides=2) maxpool(2x2) deconv(3, 3x3, strides=2, padding=same, relu) deconv(2, 2x2, dilation=2, use_bias=false) deconv(2, 4x4, strides=2, padding=same, output_padding=1) flatten dense(classes, softmax)"
  [upsampling]="conv(3, 3x3, relu, strides=2) maxpool(2x2) upsample(2x2) conv(2, 3x3) upsample(2x3, bilinear) flatten dense(classes, softmax)"
  [global_max_pooling]="conv(4, 3x3, relu) gmp dense(classes, softmax)"
  [sequences1d]="conv1d(4, 3, relu) zeropad1d([2, 1]) upsample1d(3) crop1d([1, 4]) conv1d(2, 2) flatten dense(classes, softmax)"
  [margins]="zeropad([[1, 2], [0, 3]]) conv(3, 3x3, relu) crop([[2, 1], [1, 0]]) zeropad(1) gmp dense(classes, softmax)"
  [cnn_dilated]="conv(3, 3x2, dilation=2, padding=same) batchnorm relu avgpool(3x3, strides=2, padding=same) conv(2, 2x2) flatten dense(classes, softmax)"
)
# Flags beyond the spec: a Normalization layer with the training set's statistics first.
declare -A extra=([standardized]="--normalize standardize")
for name in "${!specs[@]}"; do
  # shellcheck disable=SC2086  # the extra flags are words
  .build/release/nn train --model "${specs[$name]}" --epochs 1 --train-limit 128 --test-limit 128 \
    --save "$work/$name.safetensors" --seed 1 ${extra[$name]:-} >/dev/null
  .build/release/nn export --model "$work/$name.safetensors" --output "$out/$name.safetensors"
done
"$python" scripts/make_fixtures.py
