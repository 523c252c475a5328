#!/usr/bin/env python3
"""Writes the hostile-input fixtures of the reliability tests under
Tests/NeuralNetworksTests/Fixtures/hostile/ (plain Python: no PyTorch needed).

    python3 scripts/make_hostile_fixtures.py

Each file is one way a realistic user's input went wrong (issue: hostile-user findings):
PNGs of one picture at other depths and with a gAMA chunk, a text file named .png, broken
safetensors files, a model file with a NaN weight, a two-layer PyTorch LSTM, an IDX directory
with a stray label, IDX images of 0x0 pixels.
"""
import json
import math
import os
import struct
import zlib

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "NeuralNetworksTests", "Fixtures", "hostile")

# The picture: 4 x 3 grey levels (8-bit).
PICTURE = [[0, 60, 120, 255], [10, 200, 30, 90], [255, 128, 64, 1]]


def path(name):
    os.makedirs(OUT, exist_ok=True)
    return os.path.join(OUT, name)


def png(name, width, height, depth, color_type, rows, extra_chunks=()):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + bytes(row) for row in rows)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 0))
    for kind, payload in extra_chunks:
        data += chunk(kind, payload)
    data += chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    with open(path(name), "wb") as f:
        f.write(data)


def sixteen(value):
    return [value, value]  # v * 257 as big-endian bytes: the same level at 16 bits


def png_fixtures():
    png("picture_8bit_grey.png", 4, 3, 8, 0, PICTURE)
    png("picture_16bit_grey.png", 4, 3, 16, 0, [[b for v in row for b in sixteen(v)] for row in PICTURE])
    png("picture_16bit_rgb.png", 4, 3, 16, 2, [[b for v in row for b in sixteen(v) * 3] for row in PICTURE])
    png("picture_16bit_rgba.png", 4, 3, 16, 6, [[b for v in row for b in sixteen(v) * 3 + [255, 255]] for row in PICTURE])
    # gAMA 1/2.2 (45455) and gAMA 1.0: the stored values stay what they are.
    png("picture_8bit_gamma_045.png", 4, 3, 8, 0, PICTURE, [(b"gAMA", struct.pack(">I", 45455))])
    png("picture_8bit_gamma_100.png", 4, 3, 8, 2, [[v for v in row for _ in range(3)] for row in PICTURE],
        [(b"gAMA", struct.pack(">I", 100000))])
    with open(path("text_named.png"), "w") as f:
        f.write("this is not a picture\n")


def safetensors(name, header, data, architecture=None):
    if architecture is not None:
        header["__metadata__"] = {"format": "neuralnetworks", "architecture": json.dumps(architecture)}
    text = json.dumps(header).encode()
    with open(path(name), "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


def floats(values):
    return struct.pack("<%df" % len(values), *values)


DENSE = {"input_shape": [2], "layers": [{"type": "Dense", "units": 1}]}


def safetensors_fixtures():
    # A valid Dense(1) on 2 inputs is kernel [2, 1] (8 bytes) then bias [1] (4 bytes).
    kernel = {"dtype": "F32", "shape": [2, 1], "data_offsets": [0, 8]}
    safetensors("nan_weight.safetensors", {"dense.kernel": kernel, "dense.bias": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}},
                floats([0.5, float("nan"), 0.1]), DENSE)
    safetensors("overlapping.safetensors", {"dense.kernel": kernel, "dense.bias": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}},
                floats([0.5, 0.25]), DENSE)
    safetensors("fractional.safetensors", {"dense.kernel": {"dtype": "F32", "shape": [2, 1], "data_offsets": [0, 8.5]},
                                           "dense.bias": {"dtype": "F32", "shape": [1], "data_offsets": [8.5, 12]}},
                floats([0.5, 0.25, 0.1]), DENSE)
    safetensors("trailing.safetensors", {"dense.kernel": kernel, "dense.bias": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}},
                floats([0.5, 0.25, 0.1]) + b"\x00" * 16, DENSE)
    safetensors("unused_tensor.safetensors", {"dense.kernel": kernel, "dense.bias": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]},
                                              "dense_1.kernel": {"dtype": "F32", "shape": [1], "data_offsets": [12, 16]}},
                floats([0.5, 0.25, 0.1, 0.2]), DENSE)
    # nn.LSTM(3, 2, num_layers=2, batch_first=True) named lstm + nn.Linear(2, 4) named fc: layer 1 would be lost.
    tensors, blob = {}, b""
    shapes = {"lstm.weight_ih_l0": [8, 3], "lstm.weight_hh_l0": [8, 2], "lstm.bias_ih_l0": [8], "lstm.bias_hh_l0": [8],
              "lstm.weight_ih_l1": [8, 2], "lstm.weight_hh_l1": [8, 2], "lstm.bias_ih_l1": [8], "lstm.bias_hh_l1": [8],
              "fc.weight": [4, 2], "fc.bias": [4]}
    for name in sorted(shapes):
        count = math.prod(shapes[name])
        tensors[name] = {"dtype": "F32", "shape": shapes[name], "data_offsets": [len(blob), len(blob) + 4 * count]}
        blob += floats([0.01 * (i % 7) for i in range(count)])
    safetensors("torch_two_layer_lstm.safetensors", tensors, blob)


def idx(name, dims, payload):
    with open(path(name), "wb") as f:
        f.write(bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + bytes(payload))


def idx_fixtures():
    # Three 2 x 2 images; the training labels 0, 1, 200: 198 classes without a sample.
    os.makedirs(path("stray_label"), exist_ok=True)
    idx("stray_label/train-images-idx3-ubyte", [3, 2, 2], range(12))
    idx("stray_label/train-labels-idx1-ubyte", [3], [0, 1, 200])
    idx("stray_label/t10k-images-idx3-ubyte", [2, 2, 2], range(8))
    idx("stray_label/t10k-labels-idx1-ubyte", [2], [1, 0])
    idx("zero_by_zero-images-idx3-ubyte", [5, 0, 0], [])
    idx("zero_by_zero-labels-idx1-ubyte", [5], [0, 1, 0, 1, 0])


def main():
    png_fixtures()
    safetensors_fixtures()
    idx_fixtures()
    print("hostile fixtures written to", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
