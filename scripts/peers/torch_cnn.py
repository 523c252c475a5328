#!/usr/bin/env python3
"""The convolutional presets in PyTorch (`cnn`, `cnn-pool`, `cnn-he`, `cnn-bn`), for
`nn bench --compare` and Benchmarks/results.md (and `separable`): the same layers on NCHW images (PyTorch's own
layout, oneDNN convolutions), the same initialisation (uniform ±0.1 convolutions and ±0.01 dense
layers with zero biases, or He-normal), batch normalisation with Keras' momentum and epsilon,
SGD with Keras' decay (lr / (1 + decay · iterations)), batch 128 in file order (no shuffling, as
the reference's Keras scripts), cross-entropy on the logits.

    python scripts/peers/torch_cnn.py --preset cnn-pool --epochs 1 --threads 2

Prints one line per epoch, then the JSON line of peer_common.train_and_report.
"""
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_common import arguments, images_and_labels, train_and_report  # noqa: E402


def uniform(module, limit):
    nn.init.uniform_(module.weight, -limit, limit)
    nn.init.zeros_(module.bias)
    return module


def he(module, fan_in=None):
    # Keras' he_normal: a normal truncated at two deviations, sqrt(2 / fan_in) / .8796.
    deviation = (2 / (fan_in or module.weight[0].numel())) ** 0.5 / 0.87962566103423978
    nn.init.trunc_normal_(module.weight, 0, deviation, -2 * deviation, 2 * deviation)
    if module.bias is not None:
        nn.init.zeros_(module.bias)
    return module


def model(preset, classes):
    if preset == "cnn":
        return nn.Sequential(uniform(nn.Conv2d(1, 24, 5, stride=2), 0.1), nn.ReLU(), nn.Flatten(),
                             uniform(nn.Linear(24 * 12 * 12, 512), 0.01), nn.ReLU(), uniform(nn.Linear(512, classes), 0.01))
    he_normal, normalized = preset in ("cnn-he", "cnn-bn", "separable"), preset in ("cnn-bn", "separable")
    init = he if he_normal else (lambda m: uniform(m, 0.1 if isinstance(m, nn.Conv2d) else 0.01))

    def block(layer, channels, two_d):
        norm = [(nn.BatchNorm2d if two_d else nn.BatchNorm1d)(channels, eps=1e-3, momentum=0.01)] if normalized else []
        return [init(layer)] + norm + [nn.ReLU()]
    if preset == "separable":
        # Keras' SeparableConv2D: each channel on its own 5×5 (no bias; Keras counts the fan of the
        # depthwise kernel [5, 5, 24, 1] as 5·5·24), then 1×1 to 48 maps with the bias.
        second = [he(nn.Conv2d(24, 24, 5, groups=24, bias=False), fan_in=5 * 5 * 24)] + block(nn.Conv2d(24, 48, 1), 48, True)
    else:
        second = block(nn.Conv2d(24, 48, 5), 48, True)
    return nn.Sequential(*block(nn.Conv2d(1, 24, 5), 24, True), nn.MaxPool2d(2), *second,
                         nn.MaxPool2d(2), nn.Flatten(), *block(nn.Linear(768, 512), 512, False), init(nn.Linear(512, classes)))


SETTINGS = {"cnn": (0.1, 0.9, True, 0.0), "cnn-pool": (0.5, 0.0, False, 1e-6), "cnn-he": (0.5, 0.0, False, 1e-6),
            "cnn-bn": (0.5, 0.0, False, 0.0), "separable": (0.5, 0.0, False, 0.0)}


def main():
    preset = "cnn-pool"
    if "--preset" in sys.argv:
        at = sys.argv.index("--preset")
        preset = sys.argv[at + 1]
        del sys.argv[at:at + 2]
    args = arguments()
    x_train, y_train, x_test, y_test = (torch.from_numpy(a) for a in images_and_labels(args.data))
    x_train, x_test = x_train.unsqueeze(1), x_test.unsqueeze(1)
    network = model(preset, int(y_train.max()) + 1)
    rate, momentum, nesterov, decay = SETTINGS[preset]
    optimizer = torch.optim.SGD(network.parameters(), lr=rate, momentum=momentum, nesterov=nesterov)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda iteration: 1 / (1 + decay * iteration))
    train_and_report(network, optimizer, nn.CrossEntropyLoss(), (x_train, y_train, x_test, y_test), args.epochs,
                     shuffle=False, after_step=schedule.step)


if __name__ == "__main__":
    main()
