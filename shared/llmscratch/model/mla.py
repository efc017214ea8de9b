"""Multi-head latent attention (DeepSeek-V3): keys and values rebuilt from one small cached latent per token.

Grouped-query attention shrinks the KV cache by sharing key/value heads. Latent attention shrinks it
differently: each token is compressed into one latent vector ``c`` of ``kv_lora_rank`` numbers (plus
one small RoPE key shared by all heads), and only that goes into the cache. Every head's keys and
values are recomputed from the cached latents by an up-projection, so the cache holds
``kv_lora_rank + qk_rope_head_dim`` numbers per token and layer instead of
``2 * n_kv_heads * head_dim``.

RoPE does not commute with the up-projection (a rotated latent would rotate differently for every
head), so the position part is *decoupled*: each query and key head is the concatenation of a
``qk_nope_head_dim`` part without position (from the latent) and a ``qk_rope_head_dim`` part that is
rotated (for keys: one rotated vector shared by every head, computed from the token itself).

What differs from ``moe.MoEModel`` (blocks, routers, experts and the model loop are reused):

- ``MultiHeadLatentAttention`` replaces grouped-query attention: an optional low-rank query path
  (``W_query_down`` -> RMSNorm -> ``W_query_up``, when ``q_lora_rank > 0``), ``W_kv_down`` to the
  latent and the RoPE key, an RMSNorm on the latent, ``W_kv_up`` to every head's keys and values;
- ``LatentLayerCache`` stores the normalized latent and the rotated RoPE key (nothing else);
- ``cfg.head_dim`` is the rotated width ``qk_rope_head_dim`` (what ``rope_angles`` needs, as in
  transformers' ``DeepseekV3Config``); values have their own width ``v_head_dim``.

RoPE here rotates halves, like the Llama sibling. DeepSeek's published weights rotate adjacent
pairs (``rope_interleave``); ``weights.moe`` reorders their rows on loading, which gives exactly the
same scores. The KV-cache sizes of every family are compared in ``cache_calculator``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .kv_cache import LayerKVCache
from .llama import LlamaKVCache, RMSNorm, apply_rope
from .moe import MoEBlock, MoEConfig, MoEModel, attend_heads


@dataclass(frozen=True)
class MLAConfig(MoEConfig):
    """An MoE config plus latent attention; the defaults are DeepSeek-V3's (671B, 37B active).

    >>> cfg = MLAConfig()
    >>> cfg.kv_lora_rank + cfg.qk_rope_head_dim, 2 * cfg.n_heads * (cfg.qk_nope_head_dim + cfg.qk_rope_head_dim)
    (576, 49152)
    """

    vocab_size: int = 129_280
    context_length: int = 4096  # before YaRN's extension to 128K, which this module does not implement
    emb_dim: int = 7168
    n_heads: int = 128
    n_layers: int = 61
    n_kv_heads: int = 128  # unused by latent attention: every head gets its own keys from the latent
    hidden_dim: int = 18_432  # the dense SwiGLU of the first n_dense_layers blocks
    rope_base: float = 10_000.0
    attn_head_dim: int | None = None
    qk_norm: bool = False  # latent attention normalizes the latents instead
    n_experts: int = 256
    top_k: int = 8
    moe_hidden_dim: int = 2048
    router: str = "sigmoid_grouped"
    n_groups: int = 8
    topk_groups: int = 4
    routed_scale: float = 2.5
    n_shared_experts: int = 1
    n_dense_layers: int = 3
    q_lora_rank: int = 1536  # 0 = queries by one full-rank projection (DeepSeek-V2-Lite)
    kv_lora_rank: int = 512  # the cached latent's width
    qk_nope_head_dim: int = 128  # per head: query/key dims without position, from the latent
    qk_rope_head_dim: int = 64  # per head: rotated query dims; the rotated key is shared by all heads
    v_head_dim: int = 128
    latent_norm_eps: float = 1e-6  # the latents' RMSNorms use this, not norm_eps (as DeepSeek's code does)

    POSITIVE_INTS = (
        *MoEConfig.POSITIVE_INTS,
        "kv_lora_rank",
        "qk_nope_head_dim",
        "qk_rope_head_dim",
        "v_head_dim",
    )

    @property
    def head_dim(self) -> int:
        """The rotated width per head (``qk_rope_head_dim``): the part RoPE turns."""
        return self.qk_rope_head_dim

    def __post_init__(self) -> None:
        if (
            isinstance(self.qk_rope_head_dim, int) and self.qk_rope_head_dim % 2
        ):  # before Llama's head_dim message
            raise ValueError(
                f"qk_rope_head_dim={self.qk_rope_head_dim} must be even: RoPE rotates pairs of dims"
            )
        super().__post_init__()
        if not isinstance(self.q_lora_rank, int) or self.q_lora_rank < 0:
            raise ValueError(
                f"q_lora_rank must be 0 (full-rank queries) or a positive integer, got {self.q_lora_rank!r}"
            )
        if self.qk_norm:
            raise ValueError(
                "qk_norm does not apply to latent attention (its latents are normalized instead)"
            )
        if self.qkv_bias:
            raise ValueError("latent attention has no biases here; qkv_bias must be False")

    @property
    def latent_width(self) -> int:
        """Numbers cached per token and layer: the latent plus the shared RoPE key."""
        return self.kv_lora_rank + self.qk_rope_head_dim


DEEPSEEK_V3 = MLAConfig()
# Tiny: 2 blocks (the first dense), 8 experts in 4 groups, a 16-wide latent instead of 2 x 4 x 16 keys/values.
MLA_TINY = MLAConfig(
    vocab_size=256,
    context_length=64,
    emb_dim=64,
    n_heads=4,
    n_layers=2,
    n_kv_heads=4,
    hidden_dim=128,
    n_experts=8,
    top_k=2,
    moe_hidden_dim=32,
    n_groups=4,
    topk_groups=2,
    n_dense_layers=1,
    q_lora_rank=32,
    kv_lora_rank=16,
    qk_nope_head_dim=16,
    qk_rope_head_dim=8,
    v_head_dim=16,
)


class MultiHeadLatentAttention(nn.Module):
    """Causal attention whose keys and values come from a cached ``kv_lora_rank`` latent per token."""

    def __init__(self, cfg: MLAConfig):
        super().__init__()
        self.n_heads, self.drop_rate = cfg.n_heads, cfg.drop_rate
        self.nope, self.rope = cfg.qk_nope_head_dim, cfg.qk_rope_head_dim
        self.v_dim, self.rank = cfg.v_head_dim, cfg.kv_lora_rank
        qk_dim = self.nope + self.rope  # each query/key head: a part without position, then a rotated part
        if cfg.q_lora_rank:
            self.W_query_down = nn.Linear(cfg.emb_dim, cfg.q_lora_rank, bias=False)
            self.query_norm = RMSNorm(cfg.q_lora_rank, cfg.latent_norm_eps)
            self.W_query_up = nn.Linear(cfg.q_lora_rank, cfg.n_heads * qk_dim, bias=False)
        else:
            self.W_query = nn.Linear(cfg.emb_dim, cfg.n_heads * qk_dim, bias=False)
        # one matrix makes both the latent and the RoPE key (transformers: kv_a_proj_with_mqa)
        self.W_kv_down = nn.Linear(cfg.emb_dim, self.rank + self.rope, bias=False)
        self.kv_norm = RMSNorm(self.rank, cfg.latent_norm_eps)
        self.W_kv_up = nn.Linear(self.rank, cfg.n_heads * (self.nope + self.v_dim), bias=False)
        self.out_proj = nn.Linear(cfg.n_heads * self.v_dim, cfg.emb_dim, bias=False)

    def _queries(self, x: torch.Tensor) -> torch.Tensor:
        if hasattr(self, "W_query"):
            return self.W_query(x)
        low_rank = self.query_norm(self.W_query_down(x))  # (B, T, C) -> (B, T, q_lora_rank)
        return self.W_query_up(low_rank)  # (B, T, H * (nope + rope))

    def forward(self, x, cos, sin, attn_mask=None, cache=None) -> torch.Tensor:
        """Same arguments as ``GroupedQueryAttention.forward``; ``cache`` is a ``LatentLayerCache``."""
        b, t, _ = x.shape
        h = self.n_heads
        queries = self._queries(x).view(b, t, h, self.nope + self.rope)  # (B, T, H, nope + rope)
        queries = queries.transpose(1, 2)  # (B, H, T, nope + rope)
        q_nope, q_rope = queries.split([self.nope, self.rope], dim=-1)  # (B, H, T, nope), (B, H, T, rope)
        latent, k_rope = self.W_kv_down(x).split([self.rank, self.rope], dim=-1)  # (B, T, rank), (B, T, rope)
        latent = self.kv_norm(latent).unsqueeze(1)  # (B, 1, T, rank): one "head", shared by all
        k_rope = apply_rope(k_rope.unsqueeze(1), cos, sin)  # (B, 1, T, rope)
        if cache is not None:
            latent, k_rope = cache.append(latent, k_rope)  # (B, 1, T_all, rank), (B, 1, T_all, rope)
        t_all = latent.shape[2]
        kv = self.W_kv_up(latent.squeeze(1))  # (B, T_all, rank) -> (B, T_all, H * (nope + v))
        kv = kv.view(b, t_all, h, self.nope + self.v_dim).transpose(1, 2)  # (B, H, T_all, nope + v)
        k_nope, values = kv.split([self.nope, self.v_dim], dim=-1)  # (B, H, T_all, nope), (B, H, T_all, v)
        keys = torch.cat([k_nope, k_rope.expand(b, h, t_all, self.rope)], dim=-1)  # (B, H, T_all, nope+rope)
        queries = torch.cat([q_nope, apply_rope(q_rope, cos, sin)], dim=-1)  # (B, H, T, nope+rope)
        # (B, H, T, v), scores scaled by 1/sqrt(nope + rope): the query/key width
        context = attend_heads(self, queries, keys, values, attn_mask, h, h)
        return self.out_proj(context.transpose(1, 2).reshape(b, t, h * self.v_dim))  # (B, T, C)


class LatentLayerCache(LayerKVCache):
    """One layer's cache for latent attention: the latents ``(B, 1, T, kv_lora_rank)`` in ``keys`` and the
    rotated RoPE keys ``(B, 1, T, qk_rope_head_dim)`` in ``values``.

    What changed from ``LayerKVCache``: the two buffers have different widths, so both are allocated
    here before the first append; storing, cropping and keeping rows are inherited.
    """

    def append(self, latent: torch.Tensor, k_rope: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.keys is None:
            self.keys = latent.new_empty(latent.shape[0], 1, self.capacity, latent.shape[-1])
            self.values = k_rope.new_empty(k_rope.shape[0], 1, self.capacity, k_rope.shape[-1])
        return super().append(latent, k_rope)


class LatentKVCache(LlamaKVCache):
    """``LlamaKVCache`` (padding record and all) whose layers are ``LatentLayerCache``."""

    def __init__(self, n_layers: int, capacity: int):
        super().__init__(n_layers, capacity)
        self.layers = [LatentLayerCache(capacity) for _ in range(n_layers)]


class MLAModel(MoEModel):
    """DeepSeek-V3's decoder: ``MoEModel`` with latent attention in every block."""

    def __init__(self, cfg: MLAConfig):
        if not isinstance(cfg, MLAConfig):
            raise TypeError(f"MLAModel needs an MLAConfig, got {type(cfg).__name__}")
        super().__init__(cfg)

    def make_block(self, layer: int) -> nn.Module:
        return MoEBlock(self.cfg, layer, att=MultiHeadLatentAttention(self.cfg))

    def new_kv_cache(self) -> LatentKVCache:
        """An empty cache with room for ``context_length`` tokens: one latent and one RoPE key per token and layer."""
        return LatentKVCache(self.cfg.n_layers, self.cfg.context_length)
