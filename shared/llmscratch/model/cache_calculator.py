"""How big is a model, how much of it works per token, and how much memory does its KV cache take?

Pure arithmetic on an ``ArchSpec`` (the few numbers that decide the sizes), so it covers families
this package does not build (Qwen3's and Gemma 3's counts are checked against transformers' models)
and sizes no CPU could hold:

- ``parameter_counts(spec)``: ``total`` parameters and ``active`` ones (those one token passes
  through: a mixture of experts stores ``n_experts`` but runs ``top_k``);
- ``kv_cache_bytes(spec, context_length)``: the cache for that many tokens. Per token and layer it
  holds ``2 * n_kv_heads * head_dim`` numbers (keys and values), or ``kv_lora_rank +
  qk_rope_head_dim`` with latent attention; sliding-window layers (Gemma 3) keep only their last
  ``sliding_window`` tokens. ``cache_curve`` gives it for many lengths (for a plot);
- ``spec_from_config(cfg)`` reads our own configs (GPT, Llama, MoE, MLA), and
  ``common_size_specs()`` puts the six families at one common size for a side-by-side table
  (``size_table``). The tests check these numbers against the caches our models allocate and the
  parameters they hold.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .config import GPTConfig
from .gemma3 import Gemma3Config
from .llama import LlamaConfig
from .mla import MLAConfig
from .moe import MoEConfig, ParameterCount
from .qwen3 import Qwen3Config


@dataclass(frozen=True)
class ArchSpec:
    """The numbers that decide a decoder's parameter count and KV-cache size (nothing else)."""

    name: str
    vocab_size: int
    emb_dim: int
    n_layers: int
    n_heads: int
    head_dim: int  # per query/key head; with latent attention the part without position (qk_nope_head_dim)
    n_kv_heads: int
    hidden_dim: int  # dense feed-forward width
    gated_ffn: bool = True  # SwiGLU / GeGLU: three matrices; False: GPT-2's two-matrix GELU MLP
    layer_norm: bool = False  # LayerNorm (weight and bias) instead of RMSNorm (weight only)
    qkv_bias: bool = False
    linear_bias: bool = False  # GPT-2: biases on the attention output and both feed-forward matrices
    learned_positions: int = 0  # GPT-2: one learned vector per position
    tie_embeddings: bool = True
    norms_per_block: int = 2  # Gemma 3: 4 (before and after each sub-layer)
    qk_norm: bool = False  # Qwen3, Gemma 3: an RMSNorm(head_dim) each for queries and keys
    sliding_window: int = 0  # 0: every layer is global; else local layers keep their last this-many tokens
    global_every: int = 1  # every global_every-th layer is global (Gemma 3: 6, i.e. 5 local : 1 global)
    n_experts: int = 0  # 0: dense feed-forward everywhere
    top_k: int = 0
    moe_hidden_dim: int = 0
    n_shared_experts: int = 0
    n_dense_layers: int = 0
    kv_lora_rank: int = 0  # > 0: multi-head latent attention
    q_lora_rank: int = 0
    qk_rope_head_dim: int = 0
    v_head_dim: int = 0

    def __post_init__(self) -> None:
        for name in ("vocab_size", "emb_dim", "n_layers", "n_heads", "head_dim", "n_kv_heads", "hidden_dim"):
            if getattr(self, name) < 1:
                raise ValueError(f"{self.name}: {name} must be positive, got {getattr(self, name)}")
        if self.n_experts and not 0 < self.top_k <= self.n_experts:
            raise ValueError(
                f"{self.name}: top_k must be between 1 and n_experts={self.n_experts}, got {self.top_k}"
            )
        if self.sliding_window < 0 or self.global_every < 1:
            raise ValueError(f"{self.name}: sliding_window must be >= 0 and global_every >= 1")

    def is_local(self, layer: int) -> bool:
        """Whether layer ``layer`` (from 0) is a sliding-window layer (Gemma 3: all but every 6th)."""
        return bool(self.sliding_window) and (layer + 1) % self.global_every != 0


def _swiglu(emb_dim: int, hidden: int) -> int:
    return 3 * emb_dim * hidden


def _attention_parameters(s: ArchSpec) -> int:
    c, h = s.emb_dim, s.n_heads
    if s.kv_lora_rank:  # latent attention (mla.MultiHeadLatentAttention)
        qk, r, rq = s.head_dim + s.qk_rope_head_dim, s.kv_lora_rank, s.q_lora_rank
        query = (c * rq + rq + rq * h * qk) if rq else c * h * qk  # down, norm, up; or one matrix
        kv = c * (r + s.qk_rope_head_dim) + r + r * h * (s.head_dim + s.v_head_dim)  # down, norm, up
        return query + kv + h * s.v_head_dim * c
    q, kv = h * s.head_dim, s.n_kv_heads * s.head_dim
    n = c * q + 2 * c * kv + q * c  # W_query, W_key, W_value, out_proj
    n += (q + 2 * kv) if s.qkv_bias else 0
    n += c if s.linear_bias else 0
    return n + (2 * s.head_dim if s.qk_norm else 0)


def _dense_ffn_parameters(s: ArchSpec) -> int:
    if s.gated_ffn:
        return _swiglu(s.emb_dim, s.hidden_dim)
    return 2 * s.emb_dim * s.hidden_dim + ((s.hidden_dim + s.emb_dim) if s.linear_bias else 0)


def parameter_counts(spec: ArchSpec) -> ParameterCount:
    """``total`` parameters and ``active`` ones (per token), counting a tied table once.

    >>> spec = ArchSpec("toy", vocab_size=10, emb_dim=4, n_layers=1, n_heads=2, head_dim=2, n_kv_heads=2,
    ...                 hidden_dim=8, n_experts=4, top_k=1, moe_hidden_dim=2)
    >>> parameter_counts(spec)  # 40 embedding + 64 attention + 16 router + 4 x 24 experts + 3 x 4 norms
    ParameterCount(total=228, active=156)
    """
    norm = spec.emb_dim * (2 if spec.layer_norm else 1)
    total = active = spec.vocab_size * spec.emb_dim * (1 if spec.tie_embeddings else 2)
    total += spec.learned_positions * spec.emb_dim + norm  # positions, final norm
    active += spec.learned_positions * spec.emb_dim + norm
    for layer in range(spec.n_layers):
        shared = _attention_parameters(spec) + spec.norms_per_block * norm
        if spec.n_experts and layer >= spec.n_dense_layers:
            expert = _swiglu(spec.emb_dim, spec.moe_hidden_dim)
            shared += spec.n_experts * spec.emb_dim  # router
            shared += _swiglu(spec.emb_dim, spec.n_shared_experts * spec.moe_hidden_dim)
            total += shared + spec.n_experts * expert
            active += shared + spec.top_k * expert
        else:
            total += shared + _dense_ffn_parameters(spec)
            active += shared + _dense_ffn_parameters(spec)
    return ParameterCount(total=total, active=active)


def kv_values_per_token_and_layer(spec: ArchSpec) -> int:
    """Numbers cached per token in one layer: keys and values, or the latent and the shared RoPE key."""
    if spec.kv_lora_rank:
        return spec.kv_lora_rank + spec.qk_rope_head_dim
    return 2 * spec.n_kv_heads * spec.head_dim


def kv_cache_bytes(
    spec: ArchSpec, context_length: int, *, batch_size: int = 1, bytes_per_value: int = 2
) -> int:
    """Bytes of KV cache for ``context_length`` tokens (``bytes_per_value``: 2 for bfloat16, 4 for float32).

    >>> gpt2 = spec_from_config(GPTConfig())
    >>> kv_cache_bytes(gpt2, 1024) // 2**20  # GPT-2 small, bfloat16, a full 1024-token window: 36 MiB
    36
    """
    if context_length < 0 or batch_size < 1 or bytes_per_value < 1:
        raise ValueError("context_length must be >= 0, batch_size and bytes_per_value >= 1")
    per_layer = kv_values_per_token_and_layer(spec) * bytes_per_value * batch_size
    total = 0
    for layer in range(spec.n_layers):
        kept = min(context_length, spec.sliding_window) if spec.is_local(layer) else context_length
        total += kept * per_layer
    return total


def kv_cache_bytes_per_token(spec: ArchSpec, *, bytes_per_value: int = 2) -> int:
    """Bytes one token adds to the cache while every layer still keeps it (within every window)."""
    return kv_values_per_token_and_layer(spec) * bytes_per_value * spec.n_layers


def cache_curve(spec: ArchSpec, lengths, *, bytes_per_value: int = 2) -> list[int]:
    """``kv_cache_bytes`` at each context length in ``lengths`` (for a plot of memory against length)."""
    return [kv_cache_bytes(spec, int(n), bytes_per_value=bytes_per_value) for n in lengths]


def spec_from_config(cfg, name: str | None = None) -> ArchSpec:
    """The ``ArchSpec`` of one of our configs: GPT, Llama, Qwen3, Gemma 3, MoE or MLA."""
    name = name or type(cfg).__name__
    if isinstance(cfg, GPTConfig):
        return ArchSpec(
            name,
            cfg.vocab_size,
            cfg.emb_dim,
            cfg.n_layers,
            cfg.n_heads,
            cfg.head_dim,
            cfg.n_heads,
            4 * cfg.emb_dim,
            gated_ffn=False,
            layer_norm=True,
            qkv_bias=cfg.qkv_bias,
            linear_bias=True,
            learned_positions=cfg.context_length,
            tie_embeddings=cfg.tie_embeddings,
        )
    if not isinstance(cfg, LlamaConfig):
        raise TypeError(f"no ArchSpec for a {type(cfg).__name__}; build an ArchSpec by hand")
    spec = ArchSpec(
        name,
        cfg.vocab_size,
        cfg.emb_dim,
        cfg.n_layers,
        cfg.n_heads,
        cfg.head_dim,
        cfg.n_kv_heads,
        cfg.hidden_dim,
        qkv_bias=cfg.qkv_bias,
        tie_embeddings=cfg.tie_embeddings,
    )
    if isinstance(cfg, Qwen3Config):
        spec = replace(spec, qk_norm=True)
    if isinstance(
        cfg, Gemma3Config
    ):  # a step attends to `window` keys; between steps the cache holds window - 1
        spec = replace(
            spec, qk_norm=True, norms_per_block=4, sliding_window=cfg.window, global_every=cfg.global_every
        )
    if isinstance(cfg, MoEConfig):
        spec = replace(
            spec,
            qk_norm=cfg.qk_norm,
            n_experts=cfg.n_experts,
            top_k=cfg.top_k,
            moe_hidden_dim=cfg.moe_hidden_dim,
            n_shared_experts=cfg.n_shared_experts,
            n_dense_layers=cfg.n_dense_layers,
        )
    if isinstance(cfg, MLAConfig):
        spec = replace(
            spec,
            head_dim=cfg.qk_nope_head_dim,
            n_kv_heads=cfg.n_heads,
            kv_lora_rank=cfg.kv_lora_rank,
            q_lora_rank=cfg.q_lora_rank,
            qk_rope_head_dim=cfg.qk_rope_head_dim,
            v_head_dim=cfg.v_head_dim,
        )
    return spec


def common_size_specs(
    *,
    vocab_size: int = 128_000,
    emb_dim: int = 2048,
    n_layers: int = 24,
    n_heads: int = 16,
    context_length: int = 4096,
) -> dict[str, ArchSpec]:
    """The six families at one size: same vocabulary, width, depth, query heads (``emb_dim / n_heads`` wide).

    Choices (one line each): tied embeddings everywhere; GPT-2 keeps its 4x GELU MLP, full
    multi-head attention and ``context_length`` learned positions; the others use 4 key/value heads
    (grouped-query) and a SwiGLU of width 5632 (about 8/3 x 2048); Gemma 3 keeps 1024 tokens in 5 of
    every 6 layers; the MoE has 64 experts of width 704, 8 per token (so its *active* feed-forward
    equals the dense one); MLA caches a 512-wide latent plus a 64-wide RoPE key per token and layer.
    """
    head_dim, hidden = emb_dim // n_heads, 5632
    llama = ArchSpec("Llama / SmolLM2", vocab_size, emb_dim, n_layers, n_heads, head_dim, 4, hidden)
    return {
        "GPT-2": ArchSpec(
            "GPT-2",
            vocab_size,
            emb_dim,
            n_layers,
            n_heads,
            head_dim,
            n_heads,
            4 * emb_dim,
            gated_ffn=False,
            layer_norm=True,
            qkv_bias=True,
            linear_bias=True,
            learned_positions=context_length,
        ),
        "Llama / SmolLM2": llama,
        "Qwen3": replace(llama, name="Qwen3", qk_norm=True),
        "Gemma 3": replace(
            llama, name="Gemma 3", qk_norm=True, norms_per_block=4, sliding_window=1024, global_every=6
        ),
        "MoE (Qwen3-MoE)": replace(
            llama, name="MoE (Qwen3-MoE)", qk_norm=True, n_experts=64, top_k=8, moe_hidden_dim=hidden // 8
        ),
        "MLA (DeepSeek-V3)": replace(
            llama,
            name="MLA (DeepSeek-V3)",
            n_kv_heads=n_heads,
            kv_lora_rank=512,
            qk_rope_head_dim=64,
            v_head_dim=head_dim,
        ),
    }


@dataclass(frozen=True)
class SizeRow:
    """One line of ``size_table``."""

    name: str
    total_params: int
    active_params: int
    cache_bytes_per_token: int  # while every layer keeps the token
    cache_bytes: dict[int, int]  # context length -> bytes for that many tokens


def size_table(specs, lengths=(4096, 32_768, 131_072), *, bytes_per_value: int = 2) -> list[SizeRow]:
    """Parameters and KV-cache sizes of each spec (``specs``: a dict or a list of ``ArchSpec``)."""
    rows = []
    for spec in specs.values() if isinstance(specs, dict) else specs:
        counts = parameter_counts(spec)
        cache = {n: kv_cache_bytes(spec, n, bytes_per_value=bytes_per_value) for n in lengths}
        per_token = kv_cache_bytes_per_token(spec, bytes_per_value=bytes_per_value)
        rows.append(SizeRow(spec.name, counts.total, counts.active, per_token, cache))
    return rows


def format_size_table(rows: list[SizeRow]) -> str:
    """``size_table`` as aligned text: millions of parameters, KiB per token, MiB of cache per length."""
    lengths = list(rows[0].cache_bytes) if rows else []
    head = f"{'family':<20}{'total M':>9}{'active M':>10}{'KiB/token':>11}" + "".join(
        f"{f'MiB @ {n // 1024}K':>13}" for n in lengths
    )
    lines = [head]
    for r in rows:
        cache = "".join(f"{r.cache_bytes[n] / 2**20:>13,.0f}" for n in lengths)
        lines.append(
            f"{r.name:<20}{r.total_params / 1e6:>9,.0f}{r.active_params / 1e6:>10,.0f}"
            f"{r.cache_bytes_per_token / 1024:>11,.1f}{cache}"
        )
    return "\n".join(lines)
