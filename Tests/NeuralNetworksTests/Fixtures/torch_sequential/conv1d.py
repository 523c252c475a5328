"""The torch.nn model of conv1d.safetensors, written by `nn export --format torch`.

    model = make_model()
    model.load_state_dict(safetensors.torch.load_file("conv1d.safetensors"))
    model.eval()

Inputs are float32 [batch, 28, 28].
"""
import torch
from torch import nn


class KerasConv1d(nn.Conv1d):
    """nn.Conv1d on channels-last sequences ([N, L, C]), with Keras' padding given as (start, end)."""
    def __init__(self, in_channels, out_channels, kernel_size, stride, dilation, pads, bias=True):
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, dilation=dilation, bias=bias)
        self.pads = pads

    def forward(self, x):
        x = nn.functional.pad(x.permute(0, 2, 1), self.pads)
        return super().forward(x).permute(0, 2, 1)


class KerasLSTM(nn.LSTM):
    """nn.LSTM (batch first) with Keras' outputs: every step's, or the last state of each direction
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


def make_model():
    return nn.Sequential(
        KerasConv1d(28, 4, 3, stride=2, dilation=1, pads=(0, 1)),
        nn.ReLU(),
        KerasConv1d(4, 3, 2, stride=1, dilation=2, pads=(2, 0)),
        KerasConv1d(3, 3, 2, stride=1, dilation=1, pads=(0, 0), bias=False),
        KerasLSTM(3, 4),
        nn.Linear(4, 10),
        nn.Softmax(dim=-1),
    )
