"""The torch.nn model of merged.safetensors, written by `nn export --format torch`.

    model = make_model()
    model.load_state_dict(safetensors.torch.load_file("merged.safetensors"))
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


class KerasRNN(nn.RNN):
    """nn.RNN (batch first) with Keras' outputs: every step's, or the last state of each direction
    (the backward direction's at step 0); go_backwards reads the sequence from its end."""
    def __init__(self, input_size, hidden_size, nonlinearity="tanh", bidirectional=False,
                 return_sequences=False, go_backwards=False):
        super().__init__(input_size, hidden_size, nonlinearity=nonlinearity, batch_first=True,
                         bidirectional=bidirectional)
        self.return_sequences = return_sequences
        self.go_backwards = go_backwards

    def forward(self, x):
        out, _ = super().forward(x.flip(1) if self.go_backwards else x)
        if self.return_sequences:
            return out
        if self.bidirectional:
            return torch.cat([out[:, -1, :self.hidden_size], out[:, 0, self.hidden_size:]], dim=-1)
        return out[:, -1]


class MergeDirections(nn.Module):
    """Keras' Bidirectional merge of a module whose output is both directions concatenated on the
    last axis: "sum", "ave" (their mean) or "mul" (their element-wise product)."""
    def __init__(self, recurrent, mode):
        super().__init__()
        self.recurrent = recurrent
        self.mode = mode

    def forward(self, x):
        forwards, backwards = self.recurrent(x).chunk(2, dim=-1)
        if self.mode == "sum":
            return forwards + backwards
        if self.mode == "ave":
            return (forwards + backwards) / 2
        return forwards * backwards


def make_model():
    return nn.Sequential(
        MergeDirections(KerasGRU(28, 6, bidirectional=True, return_sequences=True), "ave"),
        MergeDirections(KerasRNN(6, 5, nonlinearity="tanh", bidirectional=True, return_sequences=True), "mul"),
        MergeDirections(KerasLSTM(5, 4, bidirectional=True), "sum"),
        nn.Linear(4, 10),
        nn.Softmax(dim=-1),
    )
