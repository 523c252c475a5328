#!/usr/bin/env python3
"""The reference model in PyTorch, on the CPU or a GPU (cuDNN): Bidirectional LSTM(128) over the
28 rows of each image, the last state of each direction concatenated, Linear(256, 10), cross-entropy
on the logits, SGD 0.1 with Nesterov momentum 0.9 and Keras' decay 1e-6, batch 128, shuffled each
epoch. PyTorch's nn.LSTM has sigmoid gates (ours default to Keras 2's hard sigmoid): the same
FLOPs, the cuDNN kernels. For scripts/device-check.sh (the CUDA issue's yardstick) and CPU runs.

    python scripts/peers/torch_bilstm.py --epochs 1 --device cuda

Prints one line per epoch, then the JSON line of peer_common.train_and_report.
"""
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_common import arguments, images_and_labels, train_and_report  # noqa: E402


class BiLSTM(nn.Module):
    def __init__(self, classes):
        super().__init__()
        self.lstm = nn.LSTM(28, 128, batch_first=True, bidirectional=True)
        self.dense = nn.Linear(256, classes)

    def forward(self, x):
        out, _ = self.lstm(x)
        # The forward direction's last step and the backward direction's first: each one's last state.
        return self.dense(torch.cat([out[:, -1, :128], out[:, 0, 128:]], dim=1))


def main():
    args = arguments()
    device = torch.device(args.device)
    data = [torch.from_numpy(a).to(device) for a in images_and_labels(args.data)]  # staged once
    network = BiLSTM(int(data[1].max()) + 1).to(device)
    optimizer = torch.optim.SGD(network.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda iteration: 1 / (1 + 1e-6 * iteration))
    train_and_report(network, optimizer, nn.CrossEntropyLoss(), data, args.epochs, shuffle=True, after_step=schedule.step)


if __name__ == "__main__":
    main()
