"""The torch.nn model of graph.safetensors, written by `nn export --format torch`.

    model = make_model()
    model.load_state_dict(safetensors.torch.load_file("graph.safetensors"))
    model.eval()

Inputs are float32 [batch, 28, 28].
"""
import torch
from torch import nn


class Concatenate(nn.Module):
    """Parallel branches on the same input, joined along the last axis."""
    def __init__(self, *branches):
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x):
        return torch.cat([branch(x) for branch in self.branches], dim=-1)


class GaussianNoise(nn.Module):
    """Keras' GaussianNoise: adds N(0, stddev²) while training, the identity in eval()."""
    def __init__(self, stddev):
        super().__init__()
        self.stddev = stddev

    def forward(self, x):
        return x + self.stddev * torch.randn_like(x) if self.training else x


class KerasHardSigmoid(nn.Module):
    """Keras 2's hard sigmoid, clip(0.2·x + 0.5, 0, 1)."""
    def forward(self, x):
        return torch.clamp(0.2 * x + 0.5, 0.0, 1.0)


class Residual(nn.Module):
    """y = body(x) + x, or body(x) + projection(x)."""
    def __init__(self, body, projection=None):
        super().__init__()
        self.body = body
        self.projection = projection

    def forward(self, x):
        return self.body(x) + (x if self.projection is None else self.projection(x))


def make_model():
    return nn.Sequential(
        nn.Flatten(),
        GaussianNoise(0.1),
        nn.Linear(784, 8),
        nn.Tanh(),
        Residual(
            nn.Sequential(
                nn.Linear(8, 8),
                nn.GELU(approximate="tanh"),
                nn.Linear(8, 8),
            )),
        Residual(
            nn.Sequential(
                nn.Linear(8, 6),
                nn.Sigmoid(),
            ),
            nn.Sequential(
                nn.Linear(8, 6, bias=False),
            )),
        Concatenate(
            nn.Sequential(
                nn.Linear(6, 4),
            ),
            nn.Sequential(
                nn.Sequential(
                    nn.Linear(6, 5),
                    nn.SiLU(),
                    nn.Linear(5, 3),
                ),
            )),
        KerasHardSigmoid(),
        nn.Linear(7, 10),
        nn.Softmax(dim=-1),
    )
