"""The torch.nn model of standardized.safetensors, written by `nn export --format torch`.

    model = make_model()
    model.load_state_dict(safetensors.torch.load_file("standardized.safetensors"))
    model.eval()

Inputs are float32 [batch, 28, 28].
"""
import torch
from torch import nn


class Normalization(nn.Module):
    """Keras' Normalization: (x - mean) / max(sqrt(variance), 1e-7), statistics of the training data."""
    def __init__(self, features):
        super().__init__()
        self.register_buffer("mean", torch.zeros(features))
        self.register_buffer("variance", torch.ones(features))

    def forward(self, x):
        return (x - self.mean) / torch.clamp(self.variance.sqrt(), min=1e-7)


def make_model():
    return nn.Sequential(
        Normalization(1),
        nn.Flatten(),
        nn.Linear(784, 8),
        nn.ReLU(),
        nn.Linear(8, 10),
        nn.Softmax(dim=-1),
    )
