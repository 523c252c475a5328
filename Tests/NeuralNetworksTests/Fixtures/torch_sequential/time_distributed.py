"""The torch.nn model of time_distributed.safetensors, written by `nn export --format torch`.

    model = make_model()
    model.load_state_dict(safetensors.torch.load_file("time_distributed.safetensors"))
    model.eval()

Inputs are float32 [batch, 28, 28].
"""
import torch
from torch import nn


class KerasGRU(nn.GRU):
    """nn.GRU (batch first) with Keras' outputs: every step's, or the last state of each direction
    (the backward direction's at step 0); go_backwards reads the sequence from its end."""
    def __init__(self, input_size, hidden_size, bidirectional=False, return_sequences=False,
                 go_backwards=False):
        super().__init__(input_size, hidden_size, batch_first=True, bidirectional=bidirectional)
        self.return_sequences = return_sequences
        self.go_backwards = go_backwards

    def forward(self, x):
        out, _ = super().forward(x.flip(1) if self.go_backwards else x)
        if self.return_sequences:
            return out
        if self.bidirectional:
            return torch.cat([out[:, -1, :self.hidden_size], out[:, 0, self.hidden_size:]], dim=-1)
        return out[:, -1]


class TimeDistributed(nn.Module):
    """Keras' TimeDistributed: the module on every step of [batch, steps, ...] with the same weights."""
    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, x):
        y = self.module(x.reshape(x.shape[0] * x.shape[1], *x.shape[2:]))
        return y.reshape(x.shape[0], x.shape[1], *y.shape[1:])


def make_model():
    return nn.Sequential(
        KerasGRU(28, 6, return_sequences=True),
        TimeDistributed(nn.Sequential(
            nn.Linear(6, 4),
            nn.ReLU(),
        )),
        TimeDistributed(nn.Sequential(
            nn.Flatten(),
        )),
        nn.Flatten(),
        nn.Linear(112, 10),
        nn.Softmax(dim=-1),
    )
