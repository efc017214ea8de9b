"""Weights stored ``(in, out)`` for generation: the matrix layout a CPU's small-batch kernel may prefer.

``nn.Linear`` keeps its weight as ``(out_features, in_features)`` and computes ``x @ W.T``; GPT-2's
original checkpoint (and ``transformers``' ``Conv1D``) keeps ``(in, out)`` and computes ``x @ W``.
Same numbers, another memory order, so the BLAS library runs another kernel. Measured on one of our
machines (Xeon with AVX-512, MKL, one thread; ``benchmarks/profile_generation.py``, part ``kernel``):
one 768 -> 3072 layer read its weights 0.85x as fast in our layout as in ``(in, out)`` at batch 8, but
1.11x as fast at batch 32 (``benchmarks/results/profile_generation.txt``). End to end, GPT-2 124M
greedy at batch 8 (``benchmarks/generation.py``, three runs): ours / transformers
0.98-1.07x in our layout, 1.25-1.38x after ``to_in_out_layout``, identical tokens. Which layout wins
depends on the batch and the BLAS library, so nothing
here is a default: ``to_in_out_layout(model)`` is a generation-time conversion you choose after
measuring, as ``quantize.quantize_for_generation`` is for the weight format.

- ``InOutLinear``: a linear layer holding ``weight_t`` ``(in, out)`` (and the bias); ``x @ weight_t + bias``.
- ``to_in_out_layout(model)``: every ``nn.Linear`` becomes one, in place. A token table tied to the
  output head is stored once: the head reads the ``(emb_dim, vocab_size)`` table, and the token lookup
  reads the same memory through its transposed view (a lookup gathers a few rows; their order in
  memory hardly matters). ``parameters()`` then lists that memory twice (the table and its view),
  so count stored bytes with ``quantize.weight_bytes``, which counts each memory block once.
"""

from __future__ import annotations

import torch
from torch import nn

from .quantize import _token_table_owner


class InOutLinear(nn.Module):
    """``nn.Linear`` with the weight stored transposed, ``weight_t`` ``(in, out)``: ``y = x @ weight_t + bias``."""

    def __init__(self, weight_t: torch.Tensor, bias: torch.Tensor | None = None):
        super().__init__()
        if weight_t.ndim != 2:
            raise ValueError(
                f"weight_t must be (in_features, out_features), got shape {tuple(weight_t.shape)}"
            )
        self.in_features, self.out_features = weight_t.shape
        self.weight_t = nn.Parameter(weight_t, requires_grad=False)
        self.bias = None if bias is None else nn.Parameter(bias.detach(), requires_grad=False)

    @classmethod
    def from_linear(cls, linear: nn.Linear) -> InOutLinear:
        return cls(linear.weight.detach().t().contiguous(), linear.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x2 = x.reshape(-1, self.in_features)  # (B, T, in) -> (B*T, in)
        y = x2 @ self.weight_t if self.bias is None else torch.addmm(self.bias, x2, self.weight_t)
        return y.view(*x.shape[:-1], self.out_features)  # (B*T, out) -> (B, T, out)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
        )


@torch.no_grad()
def to_in_out_layout(model: nn.Module) -> nn.Module:
    """Put every ``nn.Linear`` of ``model`` (in place) into the ``(in, out)`` layout; return the model.

    For generation only (no gradients afterwards). A tied token table and output head keep sharing
    one tensor. The outputs are the same products in another summation order, so they can differ
    in the last bits; the tests check that greedy tokens do not.
    """
    model.eval().requires_grad_(False)
    owner, attr = _token_table_owner(model)
    table = getattr(owner, attr)
    head = getattr(model, "out_head", None)
    tied = isinstance(head, nn.Linear) and isinstance(table, nn.Embedding) and head.weight is table.weight
    linears = [(parent, name, child) for parent in model.modules() for name, child in parent.named_children()]
    for parent, name, child in linears:
        if isinstance(child, nn.Linear) and not (tied and child is head):
            setattr(parent, name, InOutLinear.from_linear(child))
    if tied:
        model.out_head = InOutLinear.from_linear(head)
        # The lookup reads the head's (emb_dim, vocab_size) table through its (vocab_size, emb_dim) view.
        table.weight = nn.Parameter(model.out_head.weight_t.t(), requires_grad=False)
    return model
