#!/usr/bin/env python3
"""The `mlp` preset in PyTorch, for `nn bench --compare`: 784-512 sigmoid-512 sigmoid-10 softmax,
weights uniform in +-0.01, zero biases, SGD with learning rate 1.0, batch 128, no shuffling,
cross-entropy on the logits; Fashion-MNIST (or any MNIST-format directory) read from its IDX files.

    python scripts/peers/torch_mlp.py --epochs 1 --threads 2 --data /usr/share/datasets/fashion-mnist

Prints one line per epoch, then a JSON line: version, seconds_per_epoch (training only),
seconds_per_epoch_with_eval (training and the test pass), test_accuracy.
"""
import argparse
import json
import os
import sys
import time

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from idx_data import images_and_labels  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    x_train, y_train, x_test, y_test = (torch.from_numpy(a) for a in images_and_labels(args.data))
    x_train, x_test = x_train.reshape(len(x_train), -1), x_test.reshape(len(x_test), -1)
    classes = int(y_train.max()) + 1
    model = nn.Sequential(nn.Linear(784, 512), nn.Sigmoid(), nn.Linear(512, 512), nn.Sigmoid(), nn.Linear(512, classes))
    with torch.no_grad():
        for layer in model:
            if isinstance(layer, nn.Linear):
                layer.weight.uniform_(-0.01, 0.01)
                layer.bias.zero_()
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    loss_function = nn.CrossEntropyLoss()
    train_seconds, total_seconds, accuracy = [], [], 0.0
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        model.train()
        for first in range(0, len(x_train), 128):
            optimizer.zero_grad(set_to_none=True)
            loss = loss_function(model(x_train[first:first + 128]), y_train[first:first + 128])
            loss.backward()
            optimizer.step()
        trained = time.perf_counter()
        model.eval()
        with torch.no_grad():
            correct = sum(int((model(x_test[i:i + 128]).argmax(1) == y_test[i:i + 128]).sum())
                          for i in range(0, len(x_test), 128))
        accuracy = correct / len(x_test)
        end = time.perf_counter()
        train_seconds.append(trained - start)
        total_seconds.append(end - start)
        print(f"epoch {epoch}: training {trained - start:.2f} s, test {end - trained:.2f} s, accuracy {accuracy:.4f}")
    print(json.dumps({"version": torch.__version__, "seconds_per_epoch": train_seconds,
                      "seconds_per_epoch_with_eval": total_seconds, "test_accuracy": accuracy}))


if __name__ == "__main__":
    main()
