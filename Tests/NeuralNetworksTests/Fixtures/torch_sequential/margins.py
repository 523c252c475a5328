"""The torch.nn model of margins.safetensors, written by `nn export --format torch`.

    model = make_model()
    model.load_state_dict(safetensors.torch.load_file("margins.safetensors"))
    model.eval()

Inputs are float32 [batch, 28, 28].
"""
import torch
from torch import nn


class GlobalMaxPooling2D(nn.Module):
    """Keras' GlobalMaxPooling2D: the maximum of each channel of [N, H, W, C] over the image."""
    def forward(self, x):
        x = x.unsqueeze(-1) if x.dim() == 3 else x
        return x.amax(dim=(1, 2))


class KerasConv2d(nn.Conv2d):
    """nn.Conv2d on channels-last images ([N, H, W, C]; [N, H, W] is one channel), with Keras'
    padding given as (left, right, top, bottom)."""
    def __init__(self, in_channels, out_channels, kernel_size, stride, dilation, pads, bias=True):
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, dilation=dilation, bias=bias)
        self.pads = pads

    def forward(self, x):
        x = x.unsqueeze(-1) if x.dim() == 3 else x
        x = nn.functional.pad(x.permute(0, 3, 1, 2), self.pads)
        return super().forward(x).permute(0, 2, 3, 1)


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


class KerasZeroPad2d(nn.Module):
    """Keras' ZeroPadding2D on channels-last images ([N, H, W, C]; [N, H, W] is one channel)."""
    def __init__(self, pads):
        super().__init__()
        self.pads = pads

    def forward(self, x):
        x = x.unsqueeze(-1) if x.dim() == 3 else x
        return nn.functional.pad(x, self.pads)


def make_model():
    return nn.Sequential(
        KerasZeroPad2d((0, 0, 0, 3, 1, 2)),
        KerasConv2d(1, 3, (3, 3), stride=(1, 1), dilation=(1, 1), pads=(0, 0, 0, 0)),
        nn.ReLU(),
        KerasCrop2d((2, 1, 1, 0)),
        KerasZeroPad2d((0, 0, 1, 1, 1, 1)),
        GlobalMaxPooling2D(),
        nn.Linear(3, 10),
        nn.Softmax(dim=-1),
    )
