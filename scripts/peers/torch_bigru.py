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
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_common import arguments, images_and_labels, train_and_report  # noqa: E402


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
    args = arguments()
    x_train, y_train, x_test, y_test = (torch.from_numpy(a) for a in images_and_labels(args.data))
    model = BiGRU(x_train.shape[2], 128, int(y_train.max()) + 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda iteration: 1 / (1 + 1e-6 * iteration))
    train_and_report(model, optimizer, nn.CrossEntropyLoss(), (x_train, y_train, x_test, y_test), args.epochs,
                     shuffle=True, after_step=schedule.step)


if __name__ == "__main__":
    main()
