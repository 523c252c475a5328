"""The torch.nn model of cnn_dilated.safetensors, written by `nn export --format torch`.

    model = make_model()
    model.load_state_dict(safetensors.torch.load_file("cnn_dilated.safetensors"))
    model.eval()

Inputs are float32 [batch, 28, 28].
"""
import torch
from torch import nn


class ChannelsLastBatchNorm(nn.Module):
    """Keras' BatchNormalization over the last axis: batch_norm on the rows of channels."""
    def __init__(self, channels, momentum, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.register_buffer("running_mean", torch.zeros(channels))
        self.register_buffer("running_var", torch.ones(channels))
        self.momentum, self.eps = momentum, eps

    def forward(self, x):
        rows = nn.functional.batch_norm(x.reshape(-1, x.shape[-1]), self.running_mean, self.running_var,
                                        self.weight, self.bias, self.training, self.momentum, self.eps)
        return rows.reshape(x.shape)


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
        KerasConv2d(1, 3, (3, 2), stride=(1, 1), dilation=(2, 2), pads=(1, 1, 2, 2)),
        ChannelsLastBatchNorm(3, momentum=0.00999999, eps=0.001),
        nn.ReLU(),
        KerasAvgPool2d((3, 3), (2, 2), (0, 1, 0, 1)),
        KerasConv2d(3, 2, (2, 2), stride=(1, 1), dilation=(1, 1), pads=(0, 0, 0, 0)),
        nn.Flatten(),
        nn.Linear(338, 10),
        nn.Softmax(dim=-1),
    )
