"""Checks shared by the notebooks' handover cells and the test suite.

- ``assert_close``: like ``torch.testing.assert_close`` but the message always reports the max and
  mean absolute difference, so a failing equivalence check tells you *how far off* it is.
- ``assert_same_module``: the handover check. Loads the hand-built module's weights into the
  package's module (``strict=True``: every key and shape must match), runs both in eval mode on
  the same inputs and asserts identical outputs.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


def max_abs_diff(actual: torch.Tensor, expected: torch.Tensor) -> float:
    """Largest elementwise ``|actual - expected|``, computed in float64 (float32 would hide float64 rounding)."""
    return (actual.detach().double() - expected.detach().double()).abs().max().item()


def assert_close(
    actual: torch.Tensor,
    expected: torch.Tensor,
    *,
    atol: float = 0.0,
    rtol: float = 0.0,
    what: str = "outputs",
) -> float:
    """Assert ``|actual - expected| <= atol + rtol * |expected|`` elementwise; return the max difference."""
    if actual.shape != expected.shape:
        raise AssertionError(f"{what}: shape {tuple(actual.shape)} != expected {tuple(expected.shape)}")
    diff = (actual.detach().double() - expected.detach().double()).abs()
    bound = atol + rtol * expected.detach().double().abs()
    if not bool((diff <= bound).all()):
        raise AssertionError(
            f"{what} differ: max abs diff {diff.max().item():.3e}, mean {diff.mean().item():.3e} "
            f"(atol={atol}, rtol={rtol}); {(diff > bound).sum().item()} of {diff.numel()} elements out of tolerance"
        )
    return diff.max().item()


def _as_tuple(inputs: Any) -> tuple:
    return inputs if isinstance(inputs, tuple) else (inputs,)


@torch.no_grad()
def assert_same_module(
    hand_built: nn.Module, package_module: nn.Module, inputs: Any, *, atol: float = 0.0
) -> float:
    """Copy ``hand_built``'s weights into ``package_module`` and assert both give the same outputs.

    ``inputs`` is one tensor or a tuple of positional arguments. Returns the max abs difference
    (0.0 when the computation is identical, which is what the notebooks expect).
    """
    package_module.load_state_dict(hand_built.state_dict(), strict=True)
    hand_built.eval(), package_module.eval()
    expected = hand_built(*_as_tuple(inputs))
    actual = package_module(*_as_tuple(inputs))
    return assert_close(
        actual,
        expected,
        atol=atol,
        what=f"{type(package_module).__name__} vs hand-built {type(hand_built).__name__}",
    )
