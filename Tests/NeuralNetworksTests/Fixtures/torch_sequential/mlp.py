"""The torch.nn model of mlp.safetensors, written by `nn export --format torch`.

    model = make_model()
    model.load_state_dict(safetensors.torch.load_file("mlp.safetensors"))
    model.eval()

Inputs are float32 [batch, 28, 28].
"""
import torch
from torch import nn


def make_model():
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 16),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(16, 12),
        nn.ELU(),
        nn.Linear(12, 12),
        nn.LeakyReLU(0.01),
        nn.Linear(12, 12),
        nn.Softplus(),
        nn.Linear(12, 10),
        nn.Softmax(dim=-1),
    )
