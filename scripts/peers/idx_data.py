"""Reads an MNIST-format directory (IDX files, gzipped or not) for the PyTorch peer scripts."""
import gzip
import os
import struct

import numpy as np


def idx(directory, stem):
    """The array in `directory`'s file `stem` (train-images-idx3-ubyte, …), under any of its usual names."""
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        path = os.path.join(directory, name)
        if os.path.exists(path):
            opener = gzip.open if path.endswith(".gz") else open
            with opener(path, "rb") as f:
                data = f.read()
            rank = data[3]
            dims = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
            return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)
    raise SystemExit(f"{directory}: no {stem}")


def images_and_labels(directory):
    """Training and test images as float32 in [0, 1] ([n, rows, columns]) and labels as int64."""
    def images(stem):
        return idx(directory, stem).astype(np.float32) / 255
    return (images("train-images-idx3-ubyte"), idx(directory, "train-labels-idx1-ubyte").astype(np.int64),
            images("t10k-images-idx3-ubyte"), idx(directory, "t10k-labels-idx1-ubyte").astype(np.int64))
