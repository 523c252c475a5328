#!/usr/bin/env python3
"""The `ctc-lines` preset in PyTorch, on the very lines NeuralNetworks trains on (`nn lines`):
every two columns of a line (56 values) one step, nn.GRU(56, 128) both ways over the steps, a
Linear(256, 11) per step, nn.CTCLoss (blank = the last output, mean over label lengths), Adam
0.001, batch 32, reshuffled each epoch (seeded); PyTorch's default initialisation. Reports each
epoch's losses and the test lines' label error rate (best-path decoding: edit distance ÷ labels).

    nn lines --lines 20000,2000 --output /tmp/lines
    python scripts/peers/torch_ctc_lines.py --lines /tmp/lines --epochs 10 --threads 2

Prints one line per epoch, then a JSON line: version, seconds_per_epoch, label_error_rate (per epoch).
"""
import argparse
import json
import os
import time

import numpy as np
import torch
from torch import nn


class Transcriber(nn.Module):
    def __init__(self, features, units, outputs):
        super().__init__()
        self.gru = nn.GRU(features, units, batch_first=True, bidirectional=True)
        self.dense = nn.Linear(2 * units, outputs)

    def forward(self, x):
        out, _ = self.gru(x)
        return self.dense(out)


def edit_distance(a, b):
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] != b[j - 1]))
        previous = current
    return previous[len(b)]


def best_path(logits, blank):
    decoded = []
    for row in logits.argmax(-1).tolist():
        labels, previous = [], -1
        for k in row:
            if k != blank and k != previous:
                labels.append(k)
            previous = k
        decoded.append(labels)
    return decoded


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", default="/tmp/lines", help="the folder nn lines wrote")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    def load(name):
        return np.load(os.path.join(args.lines, name))
    x_train, y_train, x_test, y_test = (load(f"{a}_{b}.npy") for b in ("train", "test") for a in ("x", "y"))
    classes = int(max(y_train.max(), y_test.max())) + 1
    blank = classes

    def steps(x):  # [lines, columns, height] → [lines, columns / 2, 2 · height]
        return torch.from_numpy(x.reshape(x.shape[0], -1, 2 * x.shape[2]).copy())
    x_train, x_test = steps(x_train), steps(x_test)
    references = [[int(v) for v in row if v >= 0] for row in y_test]

    def targets(rows):
        return ([torch.tensor([v for v in row if v >= 0]) for row in rows])
    model = Transcriber(x_train.shape[2], 128, classes + 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    ctc = nn.CTCLoss(blank=blank)

    def loss_of(x, rows):
        log_probabilities = model(x).log_softmax(2)
        labels = targets(rows)
        return ctc(log_probabilities.transpose(0, 1), torch.cat(labels), torch.full((len(x),), x.shape[1]),
                   torch.tensor([len(t) for t in labels])), log_probabilities

    seconds, error_rates = [], []
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        model.train()
        order = torch.randperm(len(x_train))
        total = 0.0
        for first in range(0, len(x_train), 32):
            rows = order[first:first + 32]
            optimizer.zero_grad(set_to_none=True)
            loss, _ = loss_of(x_train[rows], y_train[rows.numpy()])
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(rows)
        trained = time.perf_counter()
        model.eval()
        test_loss, decoded = 0.0, []
        with torch.no_grad():
            for first in range(0, len(x_test), 128):
                loss, log_probabilities = loss_of(x_test[first:first + 128], y_test[first:first + 128])
                test_loss += float(loss) * len(log_probabilities)
                decoded += best_path(log_probabilities, blank)
        edits = sum(edit_distance(d, r) for d, r in zip(decoded, references))
        error_rate = edits / max(sum(len(r) for r in references), 1)
        seconds.append(trained - start)
        error_rates.append(error_rate)
        print(f"epoch {epoch}: loss {total / len(x_train):.4f} / {test_loss / len(x_test):.4f}, "
              f"label error rate {error_rate:.4f}, training {trained - start:.2f} s")
    print(json.dumps({"version": torch.__version__, "seconds_per_epoch": seconds, "label_error_rate": error_rates}))


if __name__ == "__main__":
    main()
