#!/usr/bin/env python3
"""The `bigru` preset in PyTorch, for `nn bench --compare`: nn.GRU(28, 128) both ways over the
image's 28 rows, the forward direction's last state and the backward one's final state (at row
0) joined, Linear(256, 10); PyTorch's default initialisation; Nesterov SGD 0.1, momentum 0.9,
Keras' decay 1e-6 (lr / (1 + decay · iterations)), batch 128, reshuffled each epoch (seeded);
cross-entropy on the logits. Fashion-MNIST (or any MNIST-format directory) from its IDX files.

    python scripts/peers/torch_bigru.py --epochs 1 --threads 2 --data /usr/share/datasets/fashion-mnist

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


class BiGRU(nn.Module):
    def __init__(self, features, units, classes):
        super().__init__()
        self.gru = nn.GRU(features, units, batch_first=True, bidirectional=True)
        self.dense = nn.Linear(2 * units, classes)
        self.units = units

    def forward(self, x):
        out, _ = self.gru(x)
        return self.dense(torch.cat([out[:, -1, :self.units], out[:, 0, self.units:]], dim=1))


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
    model = BiGRU(x_train.shape[2], 128, int(y_train.max()) + 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda iteration: 1 / (1 + 1e-6 * iteration))
    loss_function = nn.CrossEntropyLoss()
    train_seconds, total_seconds, accuracy = [], [], 0.0
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        model.train()
        order = torch.randperm(len(x_train))
        for first in range(0, len(x_train), 128):
            rows = order[first:first + 128]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_function(model(x_train[rows]), y_train[rows])
            loss.backward()
            optimizer.step()
            schedule.step()
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
