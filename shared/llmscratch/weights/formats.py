"""Choosing a weight format for generation on this machine, and measuring what a format costs in agreement.

``quantize.py`` builds the formats (fp32, bf16, weight-only int8) and their kernels; this module
decides between them and scores them:

- ``choose_weight_format(model)``: a short *measured* probe. Which format is fastest depends on the
  CPU's kernels (bf16 matrix units or not, int8 dot products or not), so it times a few decoding
  steps of the actual model in fp32, bf16 and int8 with the default kernel, keeps the fastest that
  beats fp32 by 5%, remembers the choice for the process and prints one line. ``weight_format=``
  or ``LLMSCRATCH_WEIGHT_FORMAT`` (``settings.weight_format``) overrides it. The probe never times
  the ``dynamic`` int8 kernel: it picks for speed alone, and ``dynamic`` is the fastest on CPUs
  with VNNI while agreeing with fp32 far less (numbers in ``quantize.py``'s docstring).
- ``for_generation(model)``: the model in that format.
- ``greedy_agreement(model, prompt, reference_ids)``: how often a format picks fp32's greedy token
  when fed fp32's tokens through its own KV cache, and for how many tokens it stays identical.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass

import torch
from torch import nn

from .. import settings
from .quantize import WEIGHT_FORMATS, default_int8_kernel, quantize_for_generation

_CHOICES: dict[
    tuple, tuple[str, str]
] = {}  # (model type, config, batch) -> (format, kernel), for this process


def _decode_seconds(model: nn.Module, batch: int, steps: int, rounds: int) -> float:
    """Median seconds of ``steps`` single-token forward passes through the KV cache after a short prompt."""
    device = next(model.parameters()).device
    ids = torch.randint(0, model.cfg.vocab_size, (batch, 8), generator=torch.Generator().manual_seed(0)).to(
        device
    )
    times = []
    with torch.no_grad():
        for _ in range(rounds + 1):  # the first round warms up
            cache = model.new_kv_cache()
            model(ids, cache, last_only=True)
            start = time.perf_counter()
            for _ in range(steps):
                model(ids[:, -1:], cache, last_only=True)
            times.append(time.perf_counter() - start)
    return sorted(times[1:])[len(times[1:]) // 2]


def choose_weight_format(
    model: nn.Module,
    *,
    batch: int = 1,
    weight_format: str | None = None,
    steps: int = 4,
    rounds: int = 3,
    verbose: bool = True,
) -> tuple[str, str]:
    """``(format, int8 kernel)`` for generating with ``model`` at ``batch`` rows on this machine.

    ``weight_format`` (or ``LLMSCRATCH_WEIGHT_FORMAT``) ``"fp32"``/``"bf16"``/``"int8"`` skips the
    probe; ``"auto"`` (the default) times ``steps`` decoding steps of copies of the model in fp32,
    bf16 and int8 with the default kernel (``int8pack``; int8 is left out where only the slow
    ``dequant`` fallback runs, and ``dynamic`` is never probed: it is faster on VNNI CPUs but agrees
    with fp32's greedy tokens far less, see the module docstring) and takes the fastest, unless it
    is not at least 5% faster than fp32 (then fp32: never slower than fp32, up to timing noise).
    The choice is remembered for this model type, configuration and batch size for the rest of the
    process, and one line says it. The kernel returned is the one int8 would use, whatever the format.
    """
    requested = weight_format or settings.weight_format()
    if requested != "auto":
        if requested not in WEIGHT_FORMATS:
            raise ValueError(f"weight_format must be 'auto' or one of {WEIGHT_FORMATS}, got {requested!r}")
        choice = (requested, default_int8_kernel(next(model.parameters()).device))
        if verbose:
            print(
                f"weight format: {requested} (set by {'argument' if weight_format else 'LLMSCRATCH_WEIGHT_FORMAT'}, no probe)"
            )
        return choice
    key = (type(model).__name__, repr(model.cfg), batch)
    if key in _CHOICES:
        return _CHOICES[key]
    int8_kernel = default_int8_kernel(next(model.parameters()).device)
    seconds = {("fp32", "-"): _decode_seconds(model, batch, steps, rounds)}
    candidates = [("bf16", "-")]
    if int8_kernel == "int8pack":
        candidates.append(("int8", int8_kernel))
    elif verbose:
        print("  (int8 not probed: only the slow 'dequant' kernel runs here)")
    for fmt, kernel in candidates:
        try:
            trial = quantize_for_generation(copy.deepcopy(model), fmt, kernel=int8_kernel)
            seconds[(fmt, kernel)] = _decode_seconds(trial, batch, steps, rounds)
        except (RuntimeError, NotImplementedError) as err:  # a kernel this build or CPU lacks
            if verbose:
                print(f"  ({fmt} {kernel} unavailable here: {str(err).splitlines()[0][:80]})")
        finally:
            trial = None
    best = min(seconds, key=seconds.get)
    if seconds[best] > seconds[("fp32", "-")] / 1.05:
        best = ("fp32", "-")
    fp32 = seconds[("fp32", "-")]
    _CHOICES[key] = (best[0], int8_kernel)
    if verbose:
        tried = ", ".join(
            f"{f}{'' if k == '-' else ' ' + k} {fp32 / s:.2f}x" for (f, k), s in seconds.items()
        )
        print(
            f"weight format: {best[0]}{'' if best[1] == '-' else ' (' + best[1] + ' kernel)'}, the fastest of a "
            f"{steps}-step probe at batch {batch} (speed vs fp32: {tried}); override with weight_format= or LLMSCRATCH_WEIGHT_FORMAT"
        )
    return _CHOICES[key]


def for_generation(
    model: nn.Module, *, batch: int = 1, weight_format: str | None = None, verbose: bool = True
) -> nn.Module:
    """``model`` in the weight format ``choose_weight_format`` picks (in place; see ``quantize_for_generation``)."""
    fmt, kernel = choose_weight_format(model, batch=batch, weight_format=weight_format, verbose=verbose)
    return quantize_for_generation(model, fmt, kernel=kernel)


@dataclass
class GreedyAgreement:
    """How often a model picks the reference's greedy token, fed the reference's tokens step by step."""

    agreed: int  # steps at which the model's argmax is the reference's token
    identical_prefix: int  # steps before the first disagreement: the tokens free-running greedy would share
    new_tokens: int

    @property
    def rate(self) -> float:
        return self.agreed / self.new_tokens


@torch.no_grad()
def greedy_agreement(
    model: nn.Module, token_ids: torch.Tensor, reference_ids: torch.Tensor
) -> GreedyAgreement:
    """Teacher-force ``reference_ids`` (another model's greedy tokens after ``token_ids``) through ``model``'s KV cache.

    Each step runs exactly as in greedy decoding (the prompt, then one token at a time through the
    cache, so a kernel sees the shapes it sees when generating), but the next input is always the
    reference's token, so one disagreement does not derail the rest of the comparison.
    ``token_ids``: ``(1, T)``; ``reference_ids``: ``(n,)`` or ``(1, n)``.
    """
    reference_ids = reference_ids.reshape(-1)
    if token_ids.ndim != 2 or token_ids.shape[0] != 1 or token_ids.shape[1] == 0:
        raise ValueError(f"token_ids must be one prompt of shape (1, T), got {tuple(token_ids.shape)}")
    n = len(reference_ids)
    if token_ids.shape[1] + n > model.cfg.context_length:
        raise ValueError(
            f"prompt ({token_ids.shape[1]}) + reference ({n}) tokens exceed context_length={model.cfg.context_length}"
        )
    cache, x, agreed, prefix = model.new_kv_cache(), token_ids, 0, None
    for step, want in enumerate(reference_ids.tolist()):
        got = int(model(x, cache, last_only=True)[0, -1].argmax())
        agreed += got == want
        if got != want and prefix is None:
            prefix = step
        x = reference_ids[step : step + 1].reshape(1, 1).to(token_ids.device)  # (1, 1): the reference's token
    return GreedyAgreement(agreed, n if prefix is None else prefix, n)
