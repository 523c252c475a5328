"""The torch.nn model of attention.safetensors, written by `nn export --format torch`.

    model = make_model()
    model.load_state_dict(safetensors.torch.load_file("attention.safetensors"))
    model.eval()

Inputs are float32 [batch, 28, 28].
"""
import torch
from torch import nn


class GlobalAveragePooling1D(nn.Module):
    """Keras' GlobalAveragePooling1D: the mean of each feature of [N, steps, features] over the steps."""
    def forward(self, x):
        return x.mean(dim=1)


class PositionEmbedding(nn.Module):
    """Adds a learnt vector to each position: x + weight, weight of one sample's shape."""
    def __init__(self, *shape):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(*shape))

    def forward(self, x):
        return x + self.weight


class Residual(nn.Module):
    """y = body(x) + x, or body(x) + projection(x)."""
    def __init__(self, body, projection=None):
        super().__init__()
        self.body = body
        self.projection = projection

    def forward(self, x):
        return self.body(x) + (x if self.projection is None else self.projection(x))


class SelfAttention(nn.MultiheadAttention):
    """nn.MultiheadAttention (batch first) on one sequence as query, key and value; causal: no step
    sees a later one. Returns the output alone."""
    def __init__(self, embed_dim, num_heads, bias=True, causal=False, dropout=0.0):
        super().__init__(embed_dim, num_heads, dropout=dropout, bias=bias, batch_first=True)
        self.causal = causal

    def forward(self, x):
        mask = None
        if self.causal:
            steps = x.shape[1]
            mask = torch.ones(steps, steps, dtype=torch.bool, device=x.device).triu(1)
        return super().forward(x, x, x, attn_mask=mask, need_weights=False)[0]


def make_model():
    return nn.Sequential(
        nn.Linear(28, 8),
        PositionEmbedding(28, 8),
        SelfAttention(8, 2, dropout=0.1),
        nn.LayerNorm(8, eps=0.001),
        SelfAttention(8, 4, causal=True),
        Residual(
            nn.Sequential(
                SelfAttention(8, 2, bias=False),
            )),
        GlobalAveragePooling1D(),
        nn.Linear(8, 10),
        nn.Softmax(dim=-1),
    )
