"""The torch.nn model of pooling1d.safetensors, written by `nn export --format torch`.

    model = make_model()
    model.load_state_dict(safetensors.torch.load_file("pooling1d.safetensors"))
    model.eval()

Inputs are float32 [batch, 28, 28].
"""
import torch
from torch import nn


class KerasAvgPool2d(nn.Module):
    """Average pooling on channels-last images ([N, H, W, C]; [N, H, W] is one channel), with
    Keras' "same" padding (left, right, top, bottom) left out of each window's count."""
    def __init__(self, kernel_size, stride, pads):
        super().__init__()
        self.kernel_size, self.stride, self.pads = kernel_size, stride, pads

    def forward(self, x):
        grey = x.dim() == 3
        x = x.unsqueeze(-1) if grey else x
        x = x.permute(0, 3, 1, 2)
        ones = torch.ones_like(x[:, :1])
        sums = nn.functional.avg_pool2d(nn.functional.pad(x, self.pads), self.kernel_size, self.stride)
        counts = nn.functional.avg_pool2d(nn.functional.pad(ones, self.pads), self.kernel_size, self.stride)
        y = (sums / counts).permute(0, 2, 3, 1)
        return y.squeeze(-1) if grey else y


class KerasConv1d(nn.Conv1d):
    """nn.Conv1d on channels-last sequences ([N, L, C]), with Keras' padding given as (start, end)."""
    def __init__(self, in_channels, out_channels, kernel_size, stride, dilation, pads, bias=True):
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, dilation=dilation, bias=bias)
        self.pads = pads

    def forward(self, x):
        x = nn.functional.pad(x.permute(0, 2, 1), self.pads)
        return super().forward(x).permute(0, 2, 1)


class KerasMaxPool2d(nn.MaxPool2d):
    """nn.MaxPool2d on channels-last images ([N, H, W, C]; [N, H, W] is one channel), padded
    with -inf as (left, right, top, bottom) for Keras' "same"."""
    def __init__(self, kernel_size, stride, pads):
        super().__init__(kernel_size, stride=stride)
        self.pads = pads

    def forward(self, x):
        grey = x.dim() == 3
        x = x.unsqueeze(-1) if grey else x
        x = nn.functional.pad(x.permute(0, 3, 1, 2), self.pads, value=float("-inf"))
        y = super().forward(x).permute(0, 2, 3, 1)
        return y.squeeze(-1) if grey else y


class OneRow(nn.Module):
    """A channels-last 2-D module on sequences [N, L, C], as one-row images [N, 1, L, C]."""
    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, x):
        return self.module(x.unsqueeze(1)).squeeze(1)


def make_model():
    return nn.Sequential(
        KerasConv1d(28, 4, 3, stride=1, dilation=1, pads=(1, 1)),
        nn.ReLU(),
        OneRow(KerasMaxPool2d((1, 3), (1, 2), (0, 0, 0, 0))),
        OneRow(KerasAvgPool2d((1, 2), (1, 2), (0, 1, 0, 0))),
        KerasConv1d(4, 3, 2, stride=1, dilation=1, pads=(0, 0)),
        OneRow(KerasMaxPool2d((1, 2), (1, 2), (0, 0, 0, 0))),
        nn.Flatten(),
        nn.Linear(9, 10),
        nn.Softmax(dim=-1),
    )
