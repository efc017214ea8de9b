"""Weight-only int8 for generation, and a measured choice of weight format (fp32, bf16, int8) per machine.

Generating one token at batch 1 reads every weight once and does two multiply-adds with it, so the
time goes into moving bytes from memory, not into arithmetic. Fewer bytes per weight is the way
past that bound. Here, by hand:

- ``quantize_per_channel(weight)``: symmetric int8 per output channel (per row of a ``(out, in)``
  weight): ``scale = max|row| / 127``, ``q = round(weight / scale)`` in ``[-127, 127]``, so
  ``weight ~ q * scale`` with an error of at most ``scale / 2`` per value. 1 byte per weight plus
  one float per row: about a quarter of float32.

  GGUF's ``Q8_0`` (``gguf.dequantize_q8_0``) is the same idea with a finer grain: one float16 scale
  per *block of 32* values along the input dimension (34 bytes per 32 weights, 1.06 bytes each). A
  block's scale follows its local largest value, so an outlier only coarsens its own 32 values,
  not the whole row; ``q8_0_roundtrip`` computes it for the side-by-side error comparison. We keep
  one scale per row because every int8 matrix kernel PyTorch ships takes per-row scales.
- ``Int8Linear``: a linear layer holding ``q`` and ``scale``; ``kernel`` says how it multiplies:
  ``"dequant"`` (``F.linear(x, q * scale)``: the definition, and slow: it rebuilds the float
  matrix on every call), ``"int8pack"`` (``torch.ops.aten._weight_int8pack_mm``, bf16 activations
  times int8 weights), ``"dynamic"`` (``torch.ops.quantized.linear_dynamic``: activations are
  quantized to 8 bits on the fly too, so the product runs on the CPU's int8 dot-product units;
  the fastest on CPUs with VNNI, and the least exact of the three).
- ``quantize_for_generation(model)``: every linear layer of a GPT or Llama model (the tied token
  table too: an embedding row is a row of the output head, so one int8 table serves both).
- ``choose_weight_format(model)``: a short *measured* probe. Which format is fastest depends on the
  CPU's kernels (bf16 matrix units or not, int8 dot products or not), so it times a few decoding
  steps of the actual model in each format, keeps the fastest that beats fp32, remembers the
  choice for the process and prints one line. ``weight_format=`` or ``LLMSCRATCH_WEIGHT_FORMAT``
  (``settings.weight_format``) overrides it.
"""

from __future__ import annotations

import copy
import time
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .. import settings

WEIGHT_FORMATS = ("fp32", "bf16", "int8")
INT8_KERNELS = ("dynamic", "int8pack", "dequant")


def quantize_per_channel(weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(out, in)`` float weight -> int8 ``q`` ``(out, in)`` and float32 ``scale`` ``(out,)``, ``weight ~ q * scale[:, None]``.

    >>> q, scale = quantize_per_channel(torch.tensor([[0.5, -1.0, 0.25]]))
    >>> q.tolist(), round(scale.item() * 127, 6)
    ([[64, -127, 32]], 1.0)
    """
    if weight.ndim != 2:
        raise ValueError(
            f"weight must be a 2-D (out_features, in_features) matrix, got shape {tuple(weight.shape)}"
        )
    w = weight.detach().float()
    if not bool(torch.isfinite(w).all()):
        raise ValueError("the weight holds NaN or inf values; int8 cannot represent them")
    scale = (w.abs().amax(dim=1) / 127).clamp(
        min=torch.finfo(torch.float32).tiny
    )  # (out,): an all-zero row gets q = 0
    q = torch.round(w / scale[:, None]).clamp(-127, 127).to(torch.int8)
    return q, scale


def dequantize_per_channel(
    q: torch.Tensor, scale: torch.Tensor, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """``q * scale`` per row: the float matrix an int8 weight stands for."""
    return q.to(dtype) * scale.to(dtype)[:, None]


def q8_0_roundtrip(weight: torch.Tensor, block_size: int = 32) -> torch.Tensor:
    """``weight`` quantized GGUF-``Q8_0``-style (a float16 scale per block of ``block_size`` inputs) and back."""
    out_features, in_features = weight.shape
    if in_features % block_size:
        raise ValueError(f"in_features={in_features} is not a multiple of block_size={block_size}")
    blocks = (
        weight.detach().float().reshape(out_features, in_features // block_size, block_size)
    )  # (out, n_blocks, 32)
    d = (
        (blocks.abs().amax(dim=-1, keepdim=True) / 127).half().float()
    )  # (out, n_blocks, 1), stored as float16
    q = torch.round(blocks / d.clamp(min=torch.finfo(torch.float16).tiny)).clamp(-127, 127)
    return (q * d).reshape(out_features, in_features)


def _has_vnni() -> bool:
    """True if the CPU has int8 dot products with 32-bit sums (no 16-bit saturation inside the dynamic kernel)."""
    try:
        flags = next(
            line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags")
        ).split()
    except (OSError, StopIteration):
        return False
    return "avx512_vnni" in flags or "avx_vnni" in flags


class Int8Linear(nn.Module):
    """``y = x @ (q * scale).T + bias`` with int8 ``q`` ``(out, in)`` and float32 ``scale`` ``(out,)``.

    ``kernel`` picks the multiplication (see the module docstring); all three use the same ``q`` and
    ``scale``. Inputs and outputs are float32 (or whatever float dtype ``x`` has).
    """

    def __init__(
        self,
        q: torch.Tensor,
        scale: torch.Tensor,
        bias: torch.Tensor | None = None,
        *,
        kernel: str = "dynamic",
    ):
        super().__init__()
        if kernel not in INT8_KERNELS:
            raise ValueError(f"kernel must be one of {INT8_KERNELS}, got {kernel!r}")
        if q.dtype != torch.int8 or q.ndim != 2 or scale.shape != (q.shape[0],):
            raise ValueError(
                f"need int8 q (out, in) and scale (out,), got {q.dtype} {tuple(q.shape)} and {tuple(scale.shape)}"
            )
        self.out_features, self.in_features = q.shape
        self.kernel = kernel
        self.register_buffer("q", q)  # dropped by drop_table() once packed, if nothing else reads it
        self.register_buffer("scale", scale.float())
        self.register_buffer("bias", None if bias is None else bias.detach().float())
        self._packed = None
        self._reduce_range = not _has_vnni()
        if kernel == "dynamic":
            with (
                warnings.catch_warnings()
            ):  # PyTorch warns that quantized tensors are deprecated; the kernel is what we want
                warnings.simplefilter("ignore")
                qweight = torch._make_per_channel_quantized_tensor(
                    q, self.scale.double(), torch.zeros_like(self.scale, dtype=torch.long), 0
                )
                self._packed = torch.ops.quantized.linear_prepack(qweight, self.bias)
        elif kernel == "int8pack":
            self.register_buffer("_scale_bf16", self.scale.bfloat16(), persistent=False)

    @classmethod
    def from_linear(cls, linear: nn.Linear, *, kernel: str = "dynamic") -> Int8Linear:
        q, scale = quantize_per_channel(linear.weight)
        return cls(q, scale, linear.bias, kernel=kernel)

    def drop_table(self) -> None:
        """Free ``q`` when the ``dynamic`` kernel holds its own packed copy (``int8_table`` unpacks it again)."""
        if self._packed is not None:
            self.q = None

    def int8_table(self) -> torch.Tensor:
        """The int8 ``q`` ``(out, in)``, unpacked from the kernel's copy if ``drop_table`` freed it."""
        if self.q is not None:
            return self.q
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.ops.quantized.linear_unpack(self._packed)[0].int_repr()

    def packed_bytes(self) -> int:
        """Bytes held by the kernel's packed copy (not a buffer, so ``weight_bytes`` adds it): one per weight."""
        return 0 if self._packed is None else self.out_features * self.in_features

    def dequantized_weight(self, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        return dequantize_per_channel(self.int8_table(), self.scale, dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kernel == "dynamic":
            return torch.ops.quantized.linear_dynamic(x.float(), self._packed, self._reduce_range).to(x.dtype)
        if self.kernel == "int8pack":
            x2 = x.reshape(
                -1, self.in_features
            ).bfloat16()  # (B*T, in): this kernel is fast with bf16 activations
            y = torch.ops.aten._weight_int8pack_mm(x2, self.q, self._scale_bf16).to(x.dtype)  # (B*T, out)
            y = y.reshape(*x.shape[:-1], self.out_features)  # (B, T, out)
            return y if self.bias is None else y + self.bias.to(x.dtype)
        return F.linear(
            x, self.dequantized_weight(x.dtype), None if self.bias is None else self.bias.to(x.dtype)
        )

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, kernel={self.kernel!r}"


class Int8Embedding(nn.Module):
    """A token lookup from an int8 table with one scale per row: ``q[ids] * scale[ids]``.

    Given a tied output head's ``q`` and ``scale`` (the same tensors, not copies), one table serves both.
    """

    def __init__(self, q: torch.Tensor, scale: torch.Tensor):
        super().__init__()
        self.register_buffer("q", q)
        self.register_buffer("scale", scale)

    @property
    def weight(self) -> torch.Tensor:
        """The int8 table ``(vocab_size, emb_dim)`` (its row scales are in ``scale``)."""
        return self.q

    def forward(self, token_ids: torch.Tensor) -> torch.Tensor:
        return self.q[token_ids].float() * self.scale[token_ids].unsqueeze(-1)  # (B, T) -> (B, T, C)


def _token_table_owner(model: nn.Module) -> tuple[nn.Module, str]:
    """(module, attribute) of the token ``nn.Embedding``: ``model.emb.tok_emb`` (GPT) or ``model.tok_emb`` (Llama)."""
    if hasattr(model, "emb") and hasattr(model.emb, "tok_emb"):
        return model.emb, "tok_emb"
    if hasattr(model, "tok_emb"):
        return model, "tok_emb"
    raise TypeError(
        f"{type(model).__name__} has no token embedding (emb.tok_emb or tok_emb); is it a GPTModel or LlamaModel?"
    )


@torch.no_grad()
def quantize_for_generation(
    model: nn.Module, weight_format: str = "int8", *, kernel: str = "dynamic"
) -> nn.Module:
    """Put ``model`` (in place) into ``weight_format`` for inference and return it.

    ``"int8"``: every ``nn.Linear`` becomes an ``Int8Linear`` (norms, biases and the position table
    stay float32; the token table becomes an ``Int8Embedding``; when it is tied to the output head it
    shares the head's int8 table, and that head multiplies with ``int8pack``, so the table is stored once). ``"bf16"``: the whole model in bfloat16. ``"fp32"``: unchanged. The model is for
    generation afterwards (no gradients; keep a copy, ``copy.deepcopy(model)``, to train on).
    """
    if weight_format not in WEIGHT_FORMATS:
        raise ValueError(f"weight_format must be one of {WEIGHT_FORMATS}, got {weight_format!r}")
    model.eval().requires_grad_(False)
    if weight_format == "bf16":
        return model.to(torch.bfloat16)
    if weight_format == "fp32":
        return model
    owner, name = _token_table_owner(model)
    table = getattr(owner, name).weight
    head = getattr(model, "out_head", None)
    tied = isinstance(head, nn.Linear) and head.weight is table
    for parent in list(model.modules()):
        for child_name, child in list(parent.named_children()):
            if isinstance(child, nn.Linear):
                # A tied head's table is also read by the lookup: "dynamic" would hold it twice (its packed
                # copy and q), so that one layer multiplies with "int8pack", which reads q itself.
                k = "int8pack" if tied and child is head and kernel == "dynamic" else kernel
                setattr(parent, child_name, Int8Linear.from_linear(child, kernel=k))
    if tied:
        setattr(owner, name, Int8Embedding(model.out_head.q, model.out_head.scale))
    else:
        setattr(owner, name, Int8Embedding(*quantize_per_channel(table)))
    for module in model.modules():
        if isinstance(module, Int8Linear):
            module.drop_table()  # the dynamic kernel's packed copy is all it needs
    return model


def weight_bytes(model: nn.Module) -> int:
    """Bytes of the model's parameters and buffers (int8 tables, scales, float tensors, each once) plus packed kernel copies."""
    seen, total = set(), 0
    for t in [*model.parameters(), *model.buffers()]:
        if t.data_ptr() not in seen:
            seen.add(t.data_ptr())
            total += t.numel() * t.element_size()
    return total + sum(m.packed_bytes() for m in model.modules() if isinstance(m, Int8Linear))


# ---------------------------------------------------------------------------------------------
# The measured choice


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
    bf16 and int8 (each int8 kernel) and takes the fastest, unless it is not at least 5% faster than
    fp32 (then fp32: never slower than fp32, up to timing noise). The choice is remembered for this
    model type, configuration and batch size for the rest of the process, and one line says it.
    """
    requested = weight_format or settings.weight_format()
    if requested != "auto":
        if requested not in WEIGHT_FORMATS:
            raise ValueError(f"weight_format must be 'auto' or one of {WEIGHT_FORMATS}, got {requested!r}")
        choice = (requested, "dynamic")
        if verbose:
            print(
                f"weight format: {requested} (set by {'argument' if weight_format else 'LLMSCRATCH_WEIGHT_FORMAT'}, no probe)"
            )
        return choice
    key = (type(model).__name__, repr(model.cfg), batch)
    if key in _CHOICES:
        return _CHOICES[key]
    seconds = {("fp32", "-"): _decode_seconds(model, batch, steps, rounds)}
    candidates = [("bf16", "-"), *(("int8", k) for k in INT8_KERNELS if k != "dequant")]
    for fmt, kernel in candidates:
        try:
            trial = quantize_for_generation(
                copy.deepcopy(model), fmt, kernel=kernel if fmt == "int8" else "dynamic"
            )
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
    _CHOICES[key] = (best[0], best[1] if best[1] != "-" else "dynamic")
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
