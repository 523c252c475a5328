"""The torch.nn model of sequences1d.safetensors, written by `nn export --format torch`.

    model = make_model()
    model.load_state_dict(safetensors.torch.load_file("sequences1d.safetensors"))
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


class KerasCrop2d(nn.Module):
    """Keras' Cropping2D on channels-last images ([N, H, W, C]; [N, H, W] is one channel):
    (top, bottom, left, right) rows and columns cut."""
    def __init__(self, cropping):
        super().__init__()
        self.cropping = cropping

    def forward(self, x):
        x = x.unsqueeze(-1) if x.dim() == 3 else x
        top, bottom, left, right = self.cropping
        return x[:, top:x.shape[1] - bottom, left:x.shape[2] - right, :]


class KerasUpsample(nn.Module):
    """Keras' UpSampling2D on channels-last images ([N, H, W, C]; [N, H, W] is one channel)."""
    def __init__(self, size, mode):
        super().__init__()
        self.size, self.mode = size, mode

    def forward(self, x):
        x = x.unsqueeze(-1) if x.dim() == 3 else x
        if self.mode == "nearest":
            return x.repeat_interleave(self.size[0], dim=1).repeat_interleave(self.size[1], dim=2)
        y = nn.functional.interpolate(x.permute(0, 3, 1, 2), scale_factor=self.size, mode=self.mode,
                                      align_corners=False)
        return y.permute(0, 2, 3, 1)


class KerasZeroPad2d(nn.Module):
    """Keras' ZeroPadding2D on channels-last images ([N, H, W, C]; [N, H, W] is one channel)."""
    def __init__(self, pads):
        super().__init__()
        self.pads = pads

    def forward(self, x):
        x = x.unsqueeze(-1) if x.dim() == 3 else x
        return nn.functional.pad(x, self.pads)


class OneRow(nn.Module):
    """A channels-last 2-D module on sequences [N, L, C], as one-row images [N, 1, L, C]."""
    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, x):
        return self.module(x.unsqueeze(1)).squeeze(1)


def make_model():
    return nn.Sequential(
        KerasConv1d(28, 4, 3, stride=1, dilation=1, pads=(0, 0)),
        nn.ReLU(),
        OneRow(KerasZeroPad2d((0, 0, 2, 1, 0, 0))),
        OneRow(KerasUpsample((1, 3), "nearest")),
        OneRow(KerasCrop2d((0, 0, 1, 4))),
        KerasConv1d(4, 2, 2, stride=1, dilation=1, pads=(0, 0)),
        nn.Flatten(),
        nn.Linear(162, 10),
        nn.Softmax(dim=-1),
    )
