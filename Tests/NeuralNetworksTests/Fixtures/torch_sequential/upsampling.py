"""The torch.nn model of upsampling.safetensors, written by `nn export --format torch`.

    model = make_model()
    model.load_state_dict(safetensors.torch.load_file("upsampling.safetensors"))
    model.eval()

Inputs are float32 [batch, 28, 28].
"""
import torch
from torch import nn


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


def make_model():
    return nn.Sequential(
        KerasConv2d(1, 3, (3, 3), stride=(2, 2), dilation=(1, 1), pads=(0, 0, 0, 0)),
        nn.ReLU(),
        KerasMaxPool2d((2, 2), (2, 2), (0, 0, 0, 0)),
        KerasUpsample((2, 2), "nearest"),
        KerasConv2d(3, 2, (3, 3), stride=(1, 1), dilation=(1, 1), pads=(0, 0, 0, 0)),
        KerasUpsample((2, 3), "bilinear"),
        nn.Flatten(),
        nn.Linear(1200, 10),
        nn.Softmax(dim=-1),
    )
