#!/usr/bin/env python3
"""The `rnn` and `birnn` presets in PyTorch: nn.RNN(28, 128, relu) over the image's 28 rows (both
ways with --bidirectional: the forward direction's last state and the backward one's final state,
at row 0, joined), Linear(·, 10); PyTorch's default initialisation; SGD 0.05 (0.03 both ways),
Keras' decay 1e-6 (lr / (1 + decay · iterations)), gradients clipped to global norm 1 as the
presets do, batch 128, reshuffled each epoch (seeded); cross-entropy on the logits.

    python scripts/peers/torch_rnn.py --epochs 100 [--bidirectional] --data /usr/share/datasets/fashion-mnist

Prints one line per epoch, then the JSON line of peer_common.train_and_report.
"""
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_common import arguments, images_and_labels, train_and_report  # noqa: E402


class LastStates(nn.Module):
    def __init__(self, features, units, classes, bidirectional):
        super().__init__()
        self.rnn = nn.RNN(features, units, nonlinearity="relu", batch_first=True, bidirectional=bidirectional)
        self.dense = nn.Linear(units * (2 if bidirectional else 1), classes)
        self.units, self.bidirectional = units, bidirectional

    def forward(self, x):
        out, _ = self.rnn(x)
        last = out[:, -1, :self.units]
        if self.bidirectional:
            last = torch.cat([last, out[:, 0, self.units:]], dim=1)
        return self.dense(last)


def main():
    bidirectional = "--bidirectional" in sys.argv
    if bidirectional:
        sys.argv.remove("--bidirectional")
    args = arguments()
    x_train, y_train, x_test, y_test = (torch.from_numpy(a) for a in images_and_labels(args.data))
    model = LastStates(x_train.shape[2], 128, int(y_train.max()) + 1, bidirectional)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.03 if bidirectional else 0.05)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda iteration: 1 / (1 + 1e-6 * iteration))
    train_and_report(model, optimizer, nn.CrossEntropyLoss(), (x_train, y_train, x_test, y_test), args.epochs,
                     shuffle=True, after_step=schedule.step,
                     before_step=lambda: nn.utils.clip_grad_norm_(model.parameters(), 1.0))


if __name__ == "__main__":
    main()
