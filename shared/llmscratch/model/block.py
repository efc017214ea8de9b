"""The pieces of a transformer block, and the block itself (chapter 4).

- ``LayerNorm``: normalize each token vector to mean 0 / variance 1, then a learned scale and shift.
  Its parameters are called ``weight`` and ``bias`` like ``nn.LayerNorm``'s, so the two are
  interchangeable (same state dict) and the equivalence tests can swap one for the other.
- ``GELU``: GPT-2's activation, the tanh approximation of ``x * Phi(x)``.
- ``FeedForward``: widen to ``4 * emb_dim``, GELU, project back; applied to each token on its own.
- ``TransformerBlock``: pre-norm attention and feed-forward sub-layers, each wrapped in a shortcut
  (residual) connection.

Two versions of each of the first two, with the same parameters and the same outputs up to float
rounding (``tests/equivalence/test_fused_vs_teaching.py`` proves it):

- ``TeachingLayerNorm`` and ``TeachingGELU`` write the formula out operation by operation, as
  chapter 4 derives it. Each operation is a separate pass over the tensor (a dozen, forward and
  backward, for a LayerNorm), and on a CPU that elementwise traffic costs more than the matrix
  multiplies around it at GPT-2's sizes.
- ``LayerNorm`` and ``GELU`` (what the package's blocks use) are the teaching classes with only
  ``forward`` replaced by PyTorch's fused kernels, ``F.layer_norm`` and
  ``F.gelu(approximate="tanh")``: one pass forward, one backward, same state dict.

Attention itself lives in ``attention`` (chapter 3); the block uses its cache-aware subclass
from ``kv_cache``, which computes exactly the same thing when no cache is passed, with the
arithmetic picked by ``cfg.attn_impl`` (``"sdpa"`` by default, or chapter 3's ``"teaching"``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .config import GPTConfig
from .kv_cache import CachedMultiHeadAttention, LayerKVCache


class TeachingLayerNorm(nn.Module):
    """``weight * (x - mean) / sqrt(var + eps) + bias`` over the last dimension, written out.

    The variance divides by ``n`` (not ``n - 1``), as ``nn.LayerNorm`` and GPT-2 do; ``eps`` keeps
    the division finite for a constant vector, and 1e-5 is GPT-2's value.
    """

    def __init__(self, emb_dim: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(emb_dim))  # per-feature scale, starts as identity
        self.bias = nn.Parameter(torch.zeros(emb_dim))  # per-feature shift

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(dim=-1, keepdim=True)  # (B, T, 1)
        var = x.var(dim=-1, keepdim=True, unbiased=False)  # (B, T, 1)
        x_hat = (x - mean) / torch.sqrt(var + self.eps)  # (B, T, C): mean 0, variance 1 per token
        return self.weight * x_hat + self.bias


class LayerNorm(TeachingLayerNorm):
    """``TeachingLayerNorm`` computed by one fused kernel, ``F.layer_norm``.

    What changed: only ``forward``. Same constructor, parameters (``weight``, ``bias``), ``eps`` and
    state dict; the same outputs up to float rounding (the fused kernel sums in another order). It
    reads ``x`` once and writes the output once, where the formula makes about six passes forward
    and more backward.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, self.eps)  # (B, T, C)


class TeachingGELU(nn.Module):
    """GPT-2's GELU written out: ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``.

    A smooth ReLU: about ``x`` for large positive ``x``, about 0 for large negative ``x``, with a
    small negative dip near ``-0.75``. Equal to ``nn.GELU(approximate="tanh")``.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3))))


class GELU(TeachingGELU):
    """``TeachingGELU`` computed by one fused kernel, ``F.gelu(x, approximate="tanh")``.

    What changed: only ``forward`` (one pass over ``x`` instead of about eight, and a matching
    fused backward). Same outputs up to float rounding.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(x, approximate="tanh")


class FeedForward(nn.Module):
    """Position-wise MLP: ``emb_dim -> hidden_dim -> emb_dim`` with a GELU in between.

    ``hidden_dim`` defaults to ``4 * emb_dim``, GPT-2's (and the original transformer's) choice.
    """

    def __init__(self, emb_dim: int, hidden_dim: int | None = None):
        super().__init__()
        hidden_dim = 4 * emb_dim if hidden_dim is None else hidden_dim
        self.fc = nn.Linear(emb_dim, hidden_dim)  # widen
        self.act = GELU()
        self.proj = nn.Linear(hidden_dim, emb_dim)  # back to the residual stream's width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(self.act(self.fc(x)))  # (B, T, C) -> (B, T, 4C) -> (B, T, C)


class TransformerBlock(nn.Module):
    """One GPT block: ``x + Attn(LN(x))``, then ``x + FF(LN(x))`` (pre-norm, as in GPT-2).

    Each sub-layer *adds* its output to the residual stream ``x`` (a shortcut connection), so the
    gradient reaches early layers through the additions undiminished. ``drop_shortcut`` drops
    parts of each sub-layer's output before it is added (training only).
    """

    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.norm1 = LayerNorm(cfg.emb_dim)
        self.att = CachedMultiHeadAttention(
            d_in=cfg.emb_dim,
            d_out=cfg.emb_dim,
            context_length=cfg.context_length,
            drop_rate=cfg.drop_rate,
            n_heads=cfg.n_heads,
            qkv_bias=cfg.qkv_bias,
            impl=cfg.attn_impl,
        )
        self.norm2 = LayerNorm(cfg.emb_dim)
        self.ff = FeedForward(cfg.emb_dim)
        self.drop_shortcut = nn.Dropout(cfg.drop_rate)

    def forward(
        self, x: torch.Tensor, cache: LayerKVCache | None = None, hidden: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``hidden``: the positions attention may not see (``attention.hidden_positions``); None = causal."""
        x = x + self.drop_shortcut(self.att(self.norm1(x), cache, hidden))  # (B, T, C): attention sub-layer
        x = x + self.drop_shortcut(self.ff(self.norm2(x)))  # (B, T, C): feed-forward sub-layer
        return x
