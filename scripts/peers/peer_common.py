"""What the PyTorch peer scripts share: reading an MNIST-format directory (IDX files, gzipped
or not), and timing epochs of classification training the way `nn bench --compare` reads them."""
import argparse
import gzip
import json
import os
import struct
import time

import numpy as np
import torch


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


def arguments():
    """The peers' flags: --epochs, --threads, --data, --seed (threads and seed applied), --device
    (cpu, or cuda for a GPU: the scripts that support it move the model and data there)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    return args


def train_and_report(model, optimizer, loss_function, data, epochs, shuffle, after_step=None, before_step=None):
    """Trains `epochs` epochs in batches of 128 (reshuffled each epoch when `shuffle`), times each
    with and without the test pass, prints one line per epoch and then the JSON line: version,
    seconds_per_epoch (training only), seconds_per_epoch_with_eval, test_accuracy. `before_step` runs
    between the backward pass and the update (gradient clipping), `after_step` after it."""
    x_train, y_train, x_test, y_test = data
    train_seconds, total_seconds, accuracy = [], [], 0.0
    def now():
        # GPU work is queued: wait for it before reading the clock.
        if x_train.is_cuda:
            torch.cuda.synchronize()
        return time.perf_counter()

    for epoch in range(1, epochs + 1):
        start = now()
        model.train()
        order = torch.randperm(len(x_train), device=x_train.device) if shuffle else None
        for first in range(0, len(x_train), 128):
            rows = slice(first, first + 128) if order is None else order[first:first + 128]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_function(model(x_train[rows]), y_train[rows])
            loss.backward()
            if before_step:
                before_step()
            optimizer.step()
            if after_step:
                after_step()
        trained = now()
        model.eval()
        with torch.no_grad():
            correct = sum(int((model(x_test[i:i + 128]).argmax(1) == y_test[i:i + 128]).sum())
                          for i in range(0, len(x_test), 128))
        accuracy = correct / len(x_test)
        end = now()
        train_seconds.append(trained - start)
        total_seconds.append(end - start)
        print(f"epoch {epoch}: training {trained - start:.2f} s, test {end - trained:.2f} s, accuracy {accuracy:.4f}")
    print(json.dumps({"version": torch.__version__, "seconds_per_epoch": train_seconds,
                      "seconds_per_epoch_with_eval": total_seconds, "test_accuracy": accuracy}))
