"""The torch.nn model of global_max_pooling.safetensors, written by `nn export --format torch`.

    model = make_model()
    model.load_state_dict(safetensors.torch.load_file("global_max_pooling.safetensors"))
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


def make_model():
    return nn.Sequential(
        KerasConv2d(1, 4, (3, 3), stride=(1, 1), dilation=(1, 1), pads=(0, 0, 0, 0)),
        nn.ReLU(),
        GlobalMaxPooling2D(),
        nn.Linear(4, 10),
        nn.Softmax(dim=-1),
    )
