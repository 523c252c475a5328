"""The torch.nn model of conv_transpose.safetensors, written by `nn export --format torch`.

    model = make_model()
    model.load_state_dict(safetensors.torch.load_file("conv_transpose.safetensors"))
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


class KerasConvTranspose2d(nn.ConvTranspose2d):
    """nn.ConvTranspose2d on channels-last images ([N, H, W, C]; [N, H, W] is one channel), cut
    to Keras' output: crop = (top, left, height, width)."""
    def __init__(self, in_channels, out_channels, kernel_size, stride, dilation, output_padding, crop, bias=True):
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, dilation=dilation,
                         output_padding=output_padding, bias=bias)
        self.crop = crop

    def forward(self, x):
        x = x.unsqueeze(-1) if x.dim() == 3 else x
        top, left, height, width = self.crop
        y = super().forward(x.permute(0, 3, 1, 2))
        return y[:, :, top:top + height, left:left + width].permute(0, 2, 3, 1)


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


def make_model():
    return nn.Sequential(
        KerasConv2d(1, 4, (3, 3), stride=(2, 2), dilation=(1, 1), pads=(0, 0, 0, 0)),
        nn.ReLU(),
        KerasMaxPool2d((2, 2), (2, 2), (0, 0, 0, 0)),
        KerasConvTranspose2d(4, 3, (3, 3), stride=(2, 2), dilation=(1, 1), output_padding=(0, 0), crop=(0, 0, 12, 12)),
        nn.ReLU(),
        KerasConvTranspose2d(3, 2, (2, 2), stride=(1, 1), dilation=(2, 2), output_padding=(0, 0), crop=(0, 0, 14, 14), bias=False),
        KerasConvTranspose2d(2, 2, (4, 4), stride=(2, 2), dilation=(1, 1), output_padding=(0, 0), crop=(1, 1, 27, 27)),
        nn.Flatten(),
        nn.Linear(1458, 10),
        nn.Softmax(dim=-1),
    )
