"""The weight formats for generation (fp32, bf16, weight-only int8) and int8's kernels, built by hand.

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

  - ``"int8pack"``, the default (``torch.ops.aten._weight_int8pack_mm``: bf16 activations times
    int8 weights, *weight-only*, so the activations keep 8 bits of mantissa);
  - ``"dequant"`` (``F.linear(x, q * scale)``: the definition, exact, and slow: it rebuilds the
    float matrix on every call); the fallback, with a warning, where ``int8pack`` does not run
    (PyTorch before 2.3, or a device without the kernel): ``default_int8_kernel`` decides;
  - ``"dynamic"``, only when asked for (``torch.ops.quantized.linear_dynamic``, CPU only):
    the *activations* are quantized to 8 bits on the fly too, with one scale for the whole input
    tensor, so the product runs on the CPU's int8 dot-product units. Fastest on CPUs with VNNI,
    but too inexact for greedy decoding. Measured on SmolLM2-135M-Instruct, 8 held-out chat
    prompts, 128 greedy tokens each, teacher-forced on fp32's tokens through the KV cache
    (``formats.greedy_agreement``): fp32's token picked at 96.2% of steps with ``int8pack``, 86.8%
    with ``dynamic`` (bf16 weights: 98.2%); in one forward pass over the whole sequence
    ``dynamic`` drops to 66.1%, because one activation scale then spans every row (so a row's
    output also depends on the other rows of its batch). Speed, one 768 x 3072 layer at batch 1
    (``benchmarks/generation.py --parts kernels``): ``int8pack`` 1.87x fp32, ``dynamic`` 2.66x,
    ``int8pack`` with fp32 activations 0.28x (hence bf16 activations). Both measured with one
    thread on a 2-core Xeon with AVX-512 bf16 and VNNI, torch 2.13.
- ``quantize_for_generation(model)``: every linear layer of a GPT or Llama model (the tied token
  table too: an embedding row is a row of the output head, so one int8 table serves both).
- ``weight_bytes(model)``: what a format costs in memory.

Which format to generate in on this machine, and how faithful a format is to fp32, is the next
module's job (``formats.py``: the measured probe and ``greedy_agreement``).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

WEIGHT_FORMATS = ("fp32", "bf16", "int8")
INT8_KERNELS = ("int8pack", "dequant", "dynamic")  # the default, its fallback, the opt-in
_DEFAULT_KERNEL: dict[str, str] = {}  # device type -> default kernel, decided once per process


def _try_int8pack(device: torch.device) -> None:
    """Multiply a tiny bf16 input by a tiny int8 weight with ``_weight_int8pack_mm``; raises where it cannot."""
    x = torch.ones(1, 32, dtype=torch.bfloat16, device=device)
    q = torch.ones(8, 32, dtype=torch.int8, device=device)
    torch.ops.aten._weight_int8pack_mm(x, q, torch.ones(8, dtype=torch.bfloat16, device=device))


def default_int8_kernel(device: str | torch.device = "cpu") -> str:
    """``"int8pack"`` if ``aten._weight_int8pack_mm`` runs here with bf16 activations, else ``"dequant"`` (warned once).

    Never ``"dynamic"``: its 8-bit activations cost greedy-token agreement (module docstring).
    """
    device = torch.device(device)
    if device.type not in _DEFAULT_KERNEL:
        try:
            _try_int8pack(device)
            _DEFAULT_KERNEL[device.type] = "int8pack"
        except (AttributeError, RuntimeError, NotImplementedError) as err:
            warnings.warn(
                f"int8 weights on {device.type}: aten._weight_int8pack_mm is unavailable "
                f"({str(err).splitlines()[0][:80]}), so Int8Linear falls back to the exact but slow 'dequant' "
                f"kernel (torch {torch.__version__}; the kernel needs torch >= 2.3)",
                stacklevel=2,
            )
            _DEFAULT_KERNEL[device.type] = "dequant"
    return _DEFAULT_KERNEL[device.type]


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

    ``kernel`` picks the multiplication (see the module docstring; ``None``: ``default_int8_kernel``);
    all three use the same ``q`` and ``scale``. Inputs and outputs are float32 (or whatever float dtype ``x`` has).
    """

    def __init__(
        self,
        q: torch.Tensor,
        scale: torch.Tensor,
        bias: torch.Tensor | None = None,
        *,
        kernel: str | None = None,
    ):
        super().__init__()
        kernel = kernel or default_int8_kernel(q.device)
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
    def from_linear(cls, linear: nn.Linear, *, kernel: str | None = None) -> Int8Linear:
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
    model: nn.Module, weight_format: str = "int8", *, kernel: str | None = None
) -> nn.Module:
    """Put ``model`` (in place) into ``weight_format`` for inference and return it.

    ``"int8"``: every ``nn.Linear`` becomes an ``Int8Linear`` (norms, biases and the position table
    stay float32; the token table becomes an ``Int8Embedding``; when it is tied to the output head it
    shares the head's int8 table, so the table is stored once; under ``"dynamic"`` that head keeps the
    default kernel, which reads ``q`` itself). ``kernel``: see ``Int8Linear`` (``None``: the default).
    ``"bf16"``: the whole model in bfloat16. ``"fp32"``: unchanged. The model is for generation
    afterwards (no gradients; keep a copy, ``copy.deepcopy(model)``, to train on).
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
    kernel = kernel or default_int8_kernel(table.device)
    for parent in list(model.modules()):
        for child_name, child in list(parent.named_children()):
            if isinstance(child, nn.Linear):
                # A tied head's table is also read by the lookup: "dynamic" would hold it twice (its packed
                # copy and q), so that one layer keeps the default kernel, which reads q itself.
                k = (
                    default_int8_kernel(table.device)
                    if tied and child is head and kernel == "dynamic"
                    else kernel
                )
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
