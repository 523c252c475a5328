#!/usr/bin/env python3
"""The `mlp` preset in PyTorch, for `nn bench --compare`: 784-512 sigmoid-512 sigmoid-10 softmax,
weights uniform in +-0.01, zero biases, SGD with learning rate 1.0, batch 128, no shuffling,
cross-entropy on the logits; Fashion-MNIST (or any MNIST-format directory) read from its IDX files.

    python scripts/peers/torch_mlp.py --epochs 1 --threads 2 --data /usr/share/datasets/fashion-mnist

Prints one line per epoch, then a JSON line: version, seconds_per_epoch (training only),
seconds_per_epoch_with_eval (training and the test pass), test_accuracy.
"""
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_common import arguments, images_and_labels, train_and_report  # noqa: E402


def main():
    args = arguments()
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
    train_and_report(model, optimizer, nn.CrossEntropyLoss(), (x_train, y_train, x_test, y_test), args.epochs,
                     shuffle=False)


if __name__ == "__main__":
    main()
