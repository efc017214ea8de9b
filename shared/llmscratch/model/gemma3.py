"""Gemma 3 (text): the Llama-style model with local sliding-window layers and a few changes of detail.

``Gemma3Model`` reuses ``llama``'s pieces (``GroupedQueryAttention``, ``rope_angles``, the
padding and mask logic of ``LlamaModel``) and changes, one line each:

- **local and global layers**: five local layers, whose tokens see only the last ``window``
  tokens (``sliding_window``), then one global layer that sees everything, and again; each kind
  has its own RoPE base (local 10,000: fine positions within the window; global 1,000,000);
- **a KV cache that forgets**: a local layer's cache keeps only the last ``window - 1`` positions
  (``sliding_window.SlidingLayerKVCache``), so five in six layers cost a fixed amount of memory;
- **norms before and after each sub-layer**: ``x + post_norm(att(norm(x)))``, the same for the
  feed-forward, so what each sub-layer adds to the residual stream is normalized too;
- ``GemmaRMSNorm`` scales by ``1 + weight`` (the weight starts at 0, so a fresh norm is the identity);
- the token embeddings are multiplied by ``sqrt(emb_dim)`` (the table is shared with the output
  head, whose inputs are normalized: the scale makes the embeddings as large as the stream);
- ``GeGLU`` feed-forward: SwiGLU with GELU (tanh approximation) in place of SiLU;
- QK-norm as in ``qwen3`` (with Gemma's norm), and the attention scores scaled by
  ``query_pre_attn_scalar ** -0.5`` instead of ``head_dim ** -0.5`` (both 256 in the 270M model).

Gemma 2's tanh soft-capping of the logits is gone in Gemma 3 (the published configs set
``final_logit_softcapping`` and ``attn_logit_softcapping`` to null), so this model has none and
``weights.gemma3`` refuses a config that asks for it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .kv_cache import KVCache, LayerKVCache
from .llama import (
    GroupedQueryAttention,
    LlamaConfig,
    LlamaKVCache,
    LlamaModel,
    RMSNorm,
    SwiGLU,
    rope_angles,
)
from .sliding_window import SlidingLayerKVCache, sliding_window_mask


@dataclass(frozen=True)
class Gemma3Config(LlamaConfig):
    """Hyper-parameters of a Gemma 3 text model; the defaults are gemma-3-270m's (its ``config.json``).

    >>> "".join("L" if Gemma3Config().is_local(i) else "G" for i in range(12))
    'LLLLLGLLLLLG'
    """

    vocab_size: int = 262144  # Gemma's SentencePiece vocabulary
    context_length: int = 32768
    emb_dim: int = 640
    n_heads: int = 4
    n_layers: int = 18
    n_kv_heads: int = 1  # multi-query attention: one key/value head for the 4 query heads
    hidden_dim: int = 2048
    rope_base: float = 1_000_000.0  # the global layers' RoPE base
    norm_eps: float = 1e-6
    tie_embeddings: bool = True
    head_dim: int = 256  # per-head width, independent of emb_dim / n_heads (4 * 256 = 1024 > 640)
    window: int = 512  # a local layer's token sees itself and the 511 tokens before it
    global_every: int = 6  # layer i is global when (i + 1) % 6 == 0: five local layers, then one global
    local_rope_base: float = 10_000.0  # the local layers' RoPE base: positions within the window
    query_pre_attn_scalar: int = 256  # scores are scaled by query_pre_attn_scalar ** -0.5

    POSITIVE_INTS = (
        *LlamaConfig.POSITIVE_INTS,
        "head_dim",
        "window",
        "global_every",
        "query_pre_attn_scalar",
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("local_rope_base", "rope_base"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")

    def is_local(self, layer: int) -> bool:
        """Whether block ``layer`` (counted from 0) is a local sliding-window layer."""
        return (layer + 1) % self.global_every != 0


GEMMA3_270M = Gemma3Config()
# Milliseconds per forward pass on a CPU, for tests and quick-mode notebooks: 7 layers (local x5,
# global, local) and a window of 8, so a 20-token prompt already slides.
GEMMA3_TINY = Gemma3Config(
    vocab_size=256,
    context_length=64,
    emb_dim=64,
    n_heads=4,
    n_layers=7,
    n_kv_heads=2,
    hidden_dim=128,
    head_dim=32,
    window=8,
    query_pre_attn_scalar=32,
)


class GemmaRMSNorm(RMSNorm):
    """``RMSNorm`` that scales by ``1 + weight``; the weight starts at 0.

    Also, unlike ``RMSNorm``, the scale is applied in float32 before casting back (as Gemma does),
    which only matters for bfloat16/float16 models.
    """

    def __init__(self, emb_dim: int, eps: float = 1e-6):
        super().__init__(emb_dim, eps)
        nn.init.zeros_(self.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x32 = x.float()
        x32 = x32 * torch.rsqrt(x32.pow(2).mean(dim=-1, keepdim=True) + self.eps)
        return (x32 * (1.0 + self.weight.float())).to(x.dtype)


class GeGLU(SwiGLU):
    """``SwiGLU`` with GELU (tanh approximation) as the gate's activation: ``down(gelu(gate(x)) * up(x))``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down(F.gelu(self.gate(x), approximate="tanh") * self.up(x))  # (B, T, C) -> (B, T, C)


class Gemma3Block(nn.Module):
    """``x + post_att_norm(att(att_norm(x)))``, then ``x + post_ff_norm(ff(ff_norm(x)))``.

    ``local`` says which kind of layer it is; the model hands it the matching mask, RoPE angles
    and cache. The attention is ``llama.GroupedQueryAttention`` with QK-norm and Gemma's scale.
    """

    def __init__(self, cfg: Gemma3Config, local: bool):
        super().__init__()
        self.local = local
        self.att_norm = GemmaRMSNorm(cfg.emb_dim, cfg.norm_eps)
        self.att = GroupedQueryAttention(cfg)
        self.att.q_norm = GemmaRMSNorm(cfg.head_dim, cfg.norm_eps)
        self.att.k_norm = GemmaRMSNorm(cfg.head_dim, cfg.norm_eps)
        self.att.scale = cfg.query_pre_attn_scalar**-0.5
        self.post_att_norm = GemmaRMSNorm(cfg.emb_dim, cfg.norm_eps)
        self.ff_norm = GemmaRMSNorm(cfg.emb_dim, cfg.norm_eps)
        self.ff = GeGLU(cfg)
        self.post_ff_norm = GemmaRMSNorm(cfg.emb_dim, cfg.norm_eps)

    def forward(self, x, cos, sin, attn_mask=None, cache=None) -> torch.Tensor:
        x = x + self.post_att_norm(self.att(self.att_norm(x), cos, sin, attn_mask, cache))
        return x + self.post_ff_norm(self.ff(self.ff_norm(x)))


class Gemma3KVCache(LlamaKVCache):
    """A full ``LayerKVCache`` for each global layer, a ``SlidingLayerKVCache`` for each local one.

    ``len(cache)`` counts every token seen, as for the other caches. A local layer has forgotten
    the keys before its window, so ``crop`` can only keep everything or nothing.
    """

    def __init__(self, cfg: Gemma3Config):
        super().__init__(cfg.n_layers, cfg.context_length)
        self.layers = [
            SlidingLayerKVCache(cfg.window) if cfg.is_local(i) else LayerKVCache(cfg.context_length)
            for i in range(cfg.n_layers)
        ]

    def crop(self, length: int) -> None:
        if length not in (0, len(self)):
            raise ValueError(
                f"cannot crop a sliding-window cache to {length} of its {len(self)} tokens: its local "
                "layers kept only their window; reset it (crop(0)) and run the tokens again"
            )
        super().crop(length)


class Gemma3Model(LlamaModel):
    """A Gemma 3 text decoder built from a ``Gemma3Config``; same interface as ``LlamaModel``."""

    def __init__(self, cfg: Gemma3Config):
        if not isinstance(cfg, Gemma3Config):
            raise TypeError(f"Gemma3Model needs a Gemma3Config, got {type(cfg).__name__}")
        super().__init__(cfg)
        self.final_norm = GemmaRMSNorm(cfg.emb_dim, cfg.norm_eps)

    def make_block(self, layer: int) -> Gemma3Block:
        return Gemma3Block(self.cfg, local=self.cfg.is_local(layer))

    @torch.no_grad()
    def init_weights(self, std: float = 0.02) -> None:
        """As ``LlamaModel``'s, then Gemma's norm weights at 0 (a scale of ``1 + 0``)."""
        super().init_weights(std)
        for module in self.modules():
            if isinstance(module, GemmaRMSNorm):
                nn.init.zeros_(module.weight)

    def new_kv_cache(self) -> Gemma3KVCache:
        """An empty cache: ``context_length`` positions for global layers, ``window - 1`` for local ones."""
        return Gemma3KVCache(self.cfg)

    def forward(
        self,
        token_ids: torch.Tensor,
        kv_cache: KVCache | None = None,
        *,
        attention_mask=None,
        last_only: bool = False,
    ) -> torch.Tensor:
        cfg, (b, t) = self.cfg, token_ids.shape
        past = 0 if kv_cache is None else len(kv_cache)
        positions, global_mask, padding = self._prepare(token_ids, kv_cache, attention_mask)
        start = self._local_start(kv_cache)
        local_mask = self._local_mask(global_mask, b, t, past, start, padding, token_ids.device)
        rope = {  # (B or 1, T, D) cos and sin for each kind of layer
            False: rope_angles(positions, cfg.head_dim, cfg.rope_base),
            True: rope_angles(positions, cfg.head_dim, cfg.local_rope_base),
        }
        x = self.tok_emb(token_ids)  # (B, T) -> (B, T, C)
        x = self.drop_emb(
            x * torch.tensor(cfg.emb_dim**0.5, dtype=x.dtype)
        )  # the scale in the weights' dtype
        for i, block in enumerate(self.blocks):
            mask = local_mask if block.local else global_mask
            x = block(
                x, *rope[block.local], mask, None if kv_cache is None else kv_cache.layers[i]
            )  # (B, T, C)
        x = self.final_norm(x)
        if last_only:
            x = x[:, -1:, :]  # (B, T, C) -> (B, 1, C)
        return self.out_head(x)  # (B, T, C) -> (B, T, V)

    def _local_start(self, kv_cache) -> int:
        """The position of the oldest key the local layers still hold (0 without a cache)."""
        if kv_cache is None:
            return 0
        for i, layer in enumerate(kv_cache.layers):
            local = self.cfg.is_local(i)
            if local != isinstance(layer, SlidingLayerKVCache) or (local and layer.window != self.cfg.window):
                raise ValueError(
                    f"kv_cache layer {i} does not fit this Gemma 3 model (local layers need a "
                    f"SlidingLayerKVCache of window {self.cfg.window}); use model.new_kv_cache()"
                )
        return next((c.start for c in kv_cache.layers if isinstance(c, SlidingLayerKVCache)), 0)

    def _local_mask(self, global_mask, b: int, t: int, past: int, start: int, padding, device):
        """The local layers' mask over keys ``start .. past + t - 1``: the global one within the window.

        Returns the global mask itself when the window cannot bite: every key is less than
        ``window`` positions back (a short text), or one new token without padding, which sees
        the ``window - 1`` held keys and itself.
        """
        if past + t <= self.cfg.window or (t == 1 and not torch.is_tensor(global_mask)):
            return global_mask
        causal = self._causal(b, t, past, padding, device)  # (B or 1, 1, T, past + T)
        return causal[..., start:] & sliding_window_mask(past, t, self.cfg.window, start=start, device=device)
