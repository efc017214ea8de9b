"""The Llama-style model: GPT's sibling with RMSNorm, rotary positions, SwiGLU and grouped-query attention.

``LlamaModel(cfg)`` has the same interface as ``gpt.GPTModel`` (``cfg``, ``blocks``,
``final_norm``, ``out_head``, ``new_kv_cache()``, ``forward(token_ids, kv_cache=None, *,
attention_mask=None, last_only=False)``), so ``generate.generate`` and the fine-tuning chapters
work with either family. What differs from GPT-2, one line each (the chapter-5 notebook
``ch05_from_gpt_to_llama`` builds and proves every change):

- ``RMSNorm`` instead of LayerNorm: rescale by the root mean square, no mean subtraction, no bias;
- rotary position embeddings (``rope_angles``/``apply_rope``) instead of a learned position table:
  queries and keys are rotated by an angle proportional to their position, so their dot product
  depends on the *distance* between tokens;
- ``SwiGLU`` feed-forward: ``down(silu(gate(x)) * up(x))`` instead of ``proj(gelu(fc(x)))``;
- ``GroupedQueryAttention``: ``n_kv_heads`` key/value heads shared by groups of query heads (a
  KV cache ``n_heads / n_kv_heads`` times smaller), computed with ``F.scaled_dot_product_attention``;
- no biases anywhere (``qkv_bias=False``), token embeddings usually tied to the output head.

The weights use HuggingFace's Llama layout (rotation by halves); ``weights.llama`` loads
HuggingFace and llama.cpp (GGUF) files into it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .config import ModelConfig
from .kv_cache import KVCache


@dataclass(frozen=True)
class LlamaConfig(ModelConfig):
    """Hyper-parameters of a Llama-style model; the defaults are SmolLM2-135M's.

    >>> LlamaConfig().n_heads // LlamaConfig().n_kv_heads  # query heads per key/value head
    3
    """

    vocab_size: int = 49152  # SmolLM2's byte-level BPE
    context_length: int = 8192  # longest input; RoPE has no table, this is what the model was trained for
    emb_dim: int = 576
    n_heads: int = 9  # query heads, 576 / 9 = 64 dims each
    n_layers: int = 30
    drop_rate: float = 0.0  # Llama-style models are pretrained without dropout
    qkv_bias: bool = False  # Llama has no biases (Qwen-style models put them on q/k/v only)
    n_kv_heads: int = 3  # key/value heads; each is shared by n_heads / n_kv_heads query heads
    hidden_dim: int = 1536  # SwiGLU width (about 8/3 * emb_dim, since SwiGLU has three matrices)
    rope_base: float = 100_000.0  # RoPE's slowest pair turns once per ~2*pi*rope_base tokens
    norm_eps: float = 1e-5  # added to the mean square in RMSNorm
    tie_embeddings: bool = True  # the token table doubles as the output head

    POSITIVE_INTS = (*ModelConfig.POSITIVE_INTS, "n_kv_heads", "hidden_dim")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.head_dim % 2:
            raise ValueError(
                f"head_dim = {self.head_dim} (emb_dim / n_heads unless set) must be even: RoPE rotates pairs of dims"
            )
        if self.n_heads % self.n_kv_heads != 0:
            raise ValueError(f"n_heads={self.n_heads} is not a multiple of n_kv_heads={self.n_kv_heads}")


SMOLLM2_135M = LlamaConfig()
# A few milliseconds per forward pass on a CPU: for tests and quick-mode notebooks.
LLAMA_TINY = LlamaConfig(
    vocab_size=256,
    context_length=64,
    emb_dim=64,
    n_heads=4,
    n_layers=2,
    n_kv_heads=2,
    hidden_dim=160,
    rope_base=10_000.0,
)


class RMSNorm(nn.Module):
    """``x / sqrt(mean(x**2) + eps) * weight``: LayerNorm without the mean and the bias.

    Computed in float32 and cast back (as HuggingFace's Llama does), so bfloat16 models normalise
    with float32 accuracy.
    """

    def __init__(self, emb_dim: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(emb_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x32 = x.float()
        x32 = x32 * torch.rsqrt(x32.pow(2).mean(dim=-1, keepdim=True) + self.eps)
        return self.weight * x32.to(x.dtype)


def rope_angles(positions: torch.Tensor, head_dim: int, base: float) -> tuple[torch.Tensor, torch.Tensor]:
    """``cos`` and ``sin`` of the rotation angles, ``(..., T, head_dim)``, for integer ``positions`` ``(..., T)``.

    Pair ``i`` (dims ``i`` and ``i + head_dim/2``) turns by ``position * base**(-2i/head_dim)``:
    the first pairs spin fast (fine position), the last ones slowly (coarse position).
    """
    inv_freq = 1.0 / (
        base ** (torch.arange(0, head_dim, 2, device=positions.device, dtype=torch.int64).float() / head_dim)
    )
    angles = positions.float().unsqueeze(-1) * inv_freq  # (..., T, D/2)
    angles = torch.cat([angles, angles], dim=-1)  # (..., T, D): both members of a pair share the angle
    return angles.cos(), angles.sin()


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    """``(x1, x2) -> (-x2, x1)`` on the two halves of the last dim: a 90-degree turn of every pair."""
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat([-x2, x1], dim=-1)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate each pair of ``x`` ``(B, H, T, D)`` by its angle (``cos``/``sin``: ``(B or 1, T, D)``)."""
    cos, sin = cos.unsqueeze(1).to(x.dtype), sin.unsqueeze(1).to(x.dtype)  # (B, 1, T, D): same for every head
    return x * cos + rotate_half(x) * sin


class SwiGLU(nn.Module):
    """The gated feed-forward: ``down(silu(gate(x)) * up(x))``; the gate decides what passes."""

    def __init__(self, cfg: LlamaConfig):
        super().__init__()
        self.gate = nn.Linear(cfg.emb_dim, cfg.hidden_dim, bias=False)
        self.up = nn.Linear(cfg.emb_dim, cfg.hidden_dim, bias=False)
        self.down = nn.Linear(cfg.hidden_dim, cfg.emb_dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down(F.silu(self.gate(x)) * self.up(x))  # (B, T, C) -> (B, T, hidden) -> (B, T, C)


class GroupedQueryAttention(nn.Module):
    """Causal self-attention with ``n_kv_heads`` key/value heads shared by ``n_heads`` query heads.

    ``n_kv_heads == n_heads`` is ordinary multi-head attention, ``n_kv_heads == 1`` multi-query.
    Keys and values are stored in the cache *before* being shared, so it holds ``n_kv_heads`` heads.
    """

    def __init__(self, cfg: LlamaConfig):
        super().__init__()
        self.n_heads, self.n_kv_heads, self.head_dim = cfg.n_heads, cfg.n_kv_heads, cfg.head_dim
        self.drop_rate = cfg.drop_rate
        self.W_query = nn.Linear(cfg.emb_dim, cfg.n_heads * cfg.head_dim, bias=cfg.qkv_bias)
        self.W_key = nn.Linear(cfg.emb_dim, cfg.n_kv_heads * cfg.head_dim, bias=cfg.qkv_bias)
        self.W_value = nn.Linear(cfg.emb_dim, cfg.n_kv_heads * cfg.head_dim, bias=cfg.qkv_bias)
        self.out_proj = nn.Linear(cfg.n_heads * cfg.head_dim, cfg.emb_dim, bias=False)
        # Hooks for later families (no-ops here): Qwen3 and Gemma 3 put an RMSNorm on every query and
        # key head before RoPE (QK-norm); Gemma 3 scales the scores by its own factor, not 1/sqrt(head_dim).
        self.q_norm: nn.Module = nn.Identity()
        self.k_norm: nn.Module = nn.Identity()
        self.scale: float | None = None  # None: scaled_dot_product_attention's 1/sqrt(head_dim)

    def _split(self, x: torch.Tensor, n_heads: int) -> torch.Tensor:
        b, t, _ = x.shape
        return x.view(b, t, n_heads, self.head_dim).transpose(1, 2)  # (B, T, H*D) -> (B, H, T, D)

    def forward(self, x, cos, sin, attn_mask=None, cache=None) -> torch.Tensor:
        """``attn_mask``: ``None`` (plain causal), ``"none"`` (see every key) or a bool ``(B, 1, T, T_all)``."""
        b, t, _ = x.shape
        queries = self.q_norm(self._split(self.W_query(x), self.n_heads))  # (B, H, T, D)
        keys = self.k_norm(self._split(self.W_key(x), self.n_kv_heads))  # (B, H_kv, T, D)
        queries, keys = apply_rope(queries, cos, sin), apply_rope(keys, cos, sin)  # rotated by position
        values = self._split(self.W_value(x), self.n_kv_heads)  # (B, H_kv, T, D)
        if cache is not None:
            keys, values = cache.append(keys, values)  # (B, H_kv, T_all, D)
        if self.n_kv_heads != self.n_heads and x.device.type == "mps":  # enable_gqa is not on every backend
            repeat = self.n_heads // self.n_kv_heads
            keys, values = keys.repeat_interleave(repeat, dim=1), values.repeat_interleave(repeat, dim=1)
        context = F.scaled_dot_product_attention(
            queries,
            keys,
            values,
            attn_mask=None if attn_mask is None or isinstance(attn_mask, str) else attn_mask,
            is_causal=attn_mask is None,
            dropout_p=self.drop_rate if self.training else 0.0,
            enable_gqa=self.n_kv_heads != self.n_heads,
            scale=self.scale,
        )  # (B, H, T, D)
        return self.out_proj(context.transpose(1, 2).reshape(b, t, self.n_heads * self.head_dim))  # (B, T, C)


class LlamaBlock(nn.Module):
    """Pre-norm residual block: ``x + att(norm(x))`` then ``x + ff(norm(x))``."""

    def __init__(self, cfg: LlamaConfig):
        super().__init__()
        self.att_norm = RMSNorm(cfg.emb_dim, cfg.norm_eps)
        self.att = GroupedQueryAttention(cfg)
        self.ff_norm = RMSNorm(cfg.emb_dim, cfg.norm_eps)
        self.ff = SwiGLU(cfg)

    def forward(self, x, cos, sin, attn_mask=None, cache=None) -> torch.Tensor:
        x = x + self.att(self.att_norm(x), cos, sin, attn_mask, cache)
        return x + self.ff(self.ff_norm(x))


class LlamaKVCache(KVCache):
    """The package's ``KVCache`` plus which cached tokens are real (``padding``: ``(B, T_cached)`` bool or None).

    With left padding the model needs the padding of *past* tokens when new ones arrive (to mask
    them and to count positions), so it keeps it here next to their keys and values.
    """

    def __init__(self, n_layers: int, capacity: int):
        super().__init__(n_layers, capacity)
        self.padding: torch.Tensor | None = None

    def reset(self) -> None:
        super().reset()
        self.padding = None

    def crop(self, length: int) -> None:
        super().crop(length)
        if self.padding is not None and length:
            self.padding = self.padding[:, :length]

    def keep_rows(self, rows: torch.Tensor, start: int = 0) -> None:
        end = len(self)
        super().keep_rows(rows, start)
        if self.padding is not None:
            self.padding = self.padding[rows, start:end]


class LlamaModel(nn.Module):
    """A Llama-style decoder built from a ``LlamaConfig``; same interface as ``GPTModel``.

    ``attention_mask`` ``(B, T)`` (1 = real token, 0 = left padding) may cover the new tokens only
    or the cached ones too; positions count real tokens only, so a left-padded row gets the same
    logits as the unpadded one.
    """

    def __init__(self, cfg: LlamaConfig):
        super().__init__()
        if not isinstance(cfg, LlamaConfig):
            raise TypeError(f"LlamaModel needs a LlamaConfig, got {type(cfg).__name__}")
        self.cfg = cfg
        self.tok_emb = nn.Embedding(cfg.vocab_size, cfg.emb_dim)
        self.drop_emb = nn.Dropout(cfg.drop_rate)
        self.blocks = nn.ModuleList(self.make_block(i) for i in range(cfg.n_layers))
        self.final_norm = RMSNorm(cfg.emb_dim, cfg.norm_eps)
        self.out_head = nn.Linear(cfg.emb_dim, cfg.vocab_size, bias=False)
        if cfg.tie_embeddings:
            self.out_head.weight = self.tok_emb.weight
        self.init_weights()

    def make_block(self, layer: int) -> nn.Module:
        """Block number ``layer`` (from 0); a later family (``qwen3``, ``gemma3``, ``moe``, ``mla``) returns its own block here."""
        return LlamaBlock(self.cfg)

    @torch.no_grad()
    def init_weights(self, std: float = 0.02) -> None:
        """Every matrix ~ N(0, std), biases 0, norms 1 (Llama's initializer_range is 0.02)."""
        for name, param in self.named_parameters():
            if param.dim() >= 2:
                nn.init.normal_(param, mean=0.0, std=std)
            elif name.endswith("bias"):
                nn.init.zeros_(param)
            else:
                nn.init.ones_(param)

    def new_kv_cache(self) -> LlamaKVCache:
        """An empty cache with room for ``context_length`` tokens (``n_kv_heads`` heads per layer)."""
        return LlamaKVCache(self.cfg.n_layers, self.cfg.context_length)

    def _padding(self, attention_mask, kv_cache, b: int, t: int, past: int, device) -> torch.Tensor | None:
        """Which of the ``past + t`` tokens are real, ``(B, past + t)`` bool, or None if all are."""
        past_pad = getattr(kv_cache, "padding", None) if past else None
        if attention_mask is None:
            if past_pad is None:
                return None
            return torch.cat([past_pad, past_pad.new_ones(b, t)], dim=1)
        mask = attention_mask.to(device=device, dtype=torch.bool)
        if mask.shape == (b, past + t) and past:
            return mask
        if mask.shape != (b, t):
            raise ValueError(
                f"attention_mask must have shape (batch, new tokens) = {(b, t)} or (batch, cached + new) = "
                f"{(b, past + t)}, got {tuple(mask.shape)}"
            )
        if past:
            return torch.cat([past_pad if past_pad is not None else mask.new_ones(b, past), mask], dim=1)
        return mask

    def forward(
        self,
        token_ids: torch.Tensor,
        kv_cache: KVCache | None = None,
        *,
        attention_mask=None,
        last_only: bool = False,
    ) -> torch.Tensor:
        positions, attn_mask, _ = self._prepare(token_ids, kv_cache, attention_mask)
        cos, sin = rope_angles(positions, self.cfg.head_dim, self.cfg.rope_base)  # (B or 1, T, D) each
        x = self.drop_emb(self.tok_emb(token_ids))  # (B, T) -> (B, T, C)
        for i, block in enumerate(self.blocks):
            x = block(x, cos, sin, attn_mask, None if kv_cache is None else kv_cache.layers[i])  # (B, T, C)
        x = self.final_norm(x)
        if last_only:
            x = x[:, -1:, :]  # (B, T, C) -> (B, 1, C)
        return self.out_head(x)  # (B, T, C) -> (B, T, V)

    def _prepare(self, token_ids: torch.Tensor, kv_cache, attention_mask):
        """Check the input; return the new tokens' ``positions`` ``(B or 1, T)``, the blocks' attention
        mask (None: causal, ``"none"``: see every key, or a bool ``(B or 1, 1, T, past + T)``) and the
        padding ``(B, past + T)`` (None if every token is real). Records the padding in the cache."""
        b, t = token_ids.shape
        if kv_cache is not None and len(kv_cache.layers) != len(self.blocks):
            raise ValueError(
                f"kv_cache has {len(kv_cache.layers)} layers but the model has {len(self.blocks)} blocks"
            )
        past = 0 if kv_cache is None else len(kv_cache)
        if past + t > self.cfg.context_length:
            raise ValueError(
                f"{past} cached + {t} new tokens exceed context_length={self.cfg.context_length}; crop the input"
            )
        device = token_ids.device
        padding = self._padding(attention_mask, kv_cache, b, t, past, device)
        if padding is None:
            positions = torch.arange(past, past + t, device=device).unsqueeze(0)  # (1, T)
            attn_mask = None if past == 0 else ("none" if t == 1 else self._causal(b, t, past, None, device))
        else:
            positions = (padding.long().cumsum(dim=1) - 1).clamp(min=0)[
                :, past:
            ]  # (B, T): real tokens before
            attn_mask = self._causal(b, t, past, padding, device)
        if kv_cache is not None and (padding is not None or getattr(kv_cache, "padding", None) is not None):
            kv_cache.padding = (
                padding if padding is not None else torch.ones(b, past + t, dtype=torch.bool, device=device)
            )
        return positions, attn_mask, padding

    @staticmethod
    def _causal(b: int, t: int, past: int, padding, device) -> torch.Tensor:
        """Bool ``(B or 1, 1, T, past + T)``: new token ``i`` sees keys ``0 .. past + i`` that are real.

        A padding query sees at least itself, so no row is all False (that would give NaN).
        """
        q_pos = torch.arange(past, past + t, device=device).unsqueeze(1)  # (T, 1)
        k_pos = torch.arange(past + t, device=device).unsqueeze(0)  # (1, T_all)
        mask = (k_pos <= q_pos).unsqueeze(0)  # (1, T, T_all)
        if padding is not None:
            mask = (mask & padding.unsqueeze(1)) | (k_pos == q_pos)  # (B, T, T_all)
        return mask.unsqueeze(1)  # (B or 1, 1, T, T_all)
