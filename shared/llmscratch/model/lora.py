"""LoRA (low-rank adaptation): fine-tune a frozen model through small added matrices.

A frozen linear layer computes ``x W^T + b``. LoRA adds a trainable update of rank ``r``:

    y = x W^T + b + (alpha / r) * (x A) B        A: (in_features, r), B: (r, out_features)

so the effective weight is ``W + (alpha / r) (A B)^T``, and only ``r * (in + out)`` numbers per
layer are trained instead of ``in * out``. ``A`` starts random and ``B`` starts at zero: the
update is exactly zero before training, so a freshly wrapped model computes what the base model
computed. Dividing by ``r`` keeps the update's scale similar when you change the rank, so
``alpha`` need not be retuned (Hu et al. 2021, section 4.1).

- ``LoRALayer``: just the update ``(alpha / r) x A B``.
- ``LinearWithLoRA``: a frozen ``nn.Linear`` plus a ``LoRALayer``; ``merge()`` folds the update
  into the weight for inference (no extra matmul, no extra layer).
- ``apply_lora(model, rank, alpha, targets=...)``: freeze the model and wrap its linear layers.
- ``merge_lora(model)``: replace every ``LinearWithLoRA`` by a plain ``nn.Linear`` with the merged weight.
- ``lora_parameter_count(model, rank)``: the formula ``sum of r * (in + out)`` over the layers that would be wrapped.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import nn


class LoRALayer(nn.Module):
    """The low-rank update ``(alpha / rank) * x @ A @ B``, with ``A`` random and ``B`` zero.

    >>> layer = LoRALayer(4, 3, rank=2, alpha=4)
    >>> layer(torch.ones(1, 4)).abs().sum().item()  # B = 0: no change until trained
    0.0
    """

    def __init__(self, in_features: int, out_features: int, rank: int, alpha: float):
        super().__init__()
        if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1:
            raise ValueError(f"rank must be a positive integer, got {rank!r}")
        self.A = nn.Parameter(torch.empty(in_features, rank))
        nn.init.kaiming_uniform_(self.A, a=math.sqrt(5))  # the same spread nn.Linear gives its weights
        self.B = nn.Parameter(torch.zeros(rank, out_features))
        self.rank, self.alpha = rank, alpha
        self.scaling = alpha / rank

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scaling * (x @ self.A @ self.B)  # (..., in) -> (..., r) -> (..., out)

    def delta_weight(self) -> torch.Tensor:
        """The update as a weight matrix shaped like ``nn.Linear.weight``: (out_features, in_features)."""
        return self.scaling * (self.A @ self.B).T


class LinearWithLoRA(nn.Module):
    """A frozen ``nn.Linear`` (kept as ``.linear``) plus a trainable ``LoRALayer`` (``.lora``)."""

    def __init__(self, linear: nn.Linear, rank: int, alpha: float):
        super().__init__()
        if not isinstance(linear, nn.Linear):
            raise TypeError(f"LinearWithLoRA wraps an nn.Linear, got {type(linear).__name__}")
        self.linear = linear
        for param in linear.parameters():
            param.requires_grad_(False)
        self.lora = LoRALayer(linear.in_features, linear.out_features, rank, alpha).to(
            device=linear.weight.device, dtype=linear.weight.dtype
        )

    @property
    def in_features(self) -> int:
        return self.linear.in_features

    @property
    def out_features(self) -> int:
        return self.linear.out_features

    @property
    def weight(self) -> torch.Tensor:
        """The frozen base weight (code that reads ``layer.weight`` directly sees the base layer)."""
        return self.linear.weight

    @property
    def bias(self) -> torch.Tensor | None:
        return self.linear.bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x) + self.lora(x)

    @torch.no_grad()
    def merge(self) -> nn.Linear:
        """A plain ``nn.Linear`` whose weight is ``W + (alpha / r) (A B)^T`` (a new tensor: a weight
        shared with another module, such as a tied embedding, is left untouched)."""
        merged = nn.Linear(
            self.in_features,
            self.out_features,
            bias=self.linear.bias is not None,
            device=self.linear.weight.device,
            dtype=self.linear.weight.dtype,
        )
        merged.weight.copy_(self.linear.weight + self.lora.delta_weight())
        if self.linear.bias is not None:
            merged.bias.copy_(self.linear.bias)
        merged.requires_grad_(False)
        return merged


def _targets(model: nn.Module, targets: Iterable[str] | None, include_head: bool) -> list[str]:
    """Names of the ``nn.Linear`` modules to wrap (all of them, or those whose name contains a target)."""
    names = [name for name, module in model.named_modules() if isinstance(module, nn.Linear)]
    if not include_head:
        names = [n for n in names if n != "out_head"]
    if targets is not None:
        targets = list(targets)
        names = [n for n in names if any(t in n for t in targets)]
        if not names:
            raise ValueError(f"no nn.Linear in the model matches targets={targets}")
    return names


def _set_submodule(model: nn.Module, name: str, module: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    setattr(model.get_submodule(parent_name) if parent_name else model, child, module)


def lora_parameter_count(
    model: nn.Module, rank: int, *, targets: Iterable[str] | None = None, include_head: bool = True
) -> int:
    """``sum over wrapped layers of rank * (in_features + out_features)``: what ``apply_lora`` will train."""
    return sum(
        rank * (m.in_features + m.out_features)
        for m in (model.get_submodule(n) for n in _targets(model, targets, include_head))
    )


def apply_lora(
    model: nn.Module,
    rank: int,
    alpha: float,
    *,
    targets: Iterable[str] | None = None,
    include_head: bool = True,
) -> nn.Module:
    """Freeze every parameter of ``model`` and wrap its linear layers with LoRA (in place; returns it).

    ``targets``: only layers whose qualified name contains one of these strings (e.g.
    ``["W_query", "W_value"]``); default every ``nn.Linear``. ``include_head=False`` leaves
    ``model.out_head`` alone (it then stays frozen too: unfreeze it yourself to train it fully).
    """
    names = _targets(model, targets, include_head)
    for param in model.parameters():
        param.requires_grad_(False)
    for name in names:
        _set_submodule(model, name, LinearWithLoRA(model.get_submodule(name), rank, alpha))
    return model


def merge_lora(model: nn.Module) -> nn.Module:
    """Replace every ``LinearWithLoRA`` by a plain ``nn.Linear`` with the update folded in (in place)."""
    names = [name for name, module in model.named_modules() if isinstance(module, LinearWithLoRA)]
    for name in names:
        _set_submodule(model, name, model.get_submodule(name).merge())
    return model
