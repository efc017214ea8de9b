"""Qwen3: the Llama-style model plus QK-norm and a head width of its own.

``Qwen3Model`` is ``llama.LlamaModel`` with two changes, and nothing else (same RoPE, SwiGLU,
grouped-query attention, RMSNorm, KV cache, padding and ``generate`` support):

- **QK-norm**: every query head and every key head is divided by its root mean square (an
  ``RMSNorm`` over the head's ``head_dim`` features, with its own learned scale) *before* RoPE
  rotates it. The dot products ``q . k`` then stay in a fixed range however large the
  projections grow, which keeps training stable; it costs ``2 * head_dim`` parameters per layer.
- **head_dim is a field**, not ``emb_dim // n_heads``: Qwen3-0.6B has 16 query heads of 128
  dims, so its attention works in ``16 * 128 = 2048`` dims while the residual stream has 1024
  (``W_query`` maps 1024 -> 2048 and ``out_proj`` 2048 -> 1024).

The published small models tie the output head to the token table (``tie_embeddings=True``), the
large ones do not; both work here. ``weights.qwen3`` maps Hugging Face's
``Qwen3ForCausalLM`` checkpoints onto this model; ``tests/equivalence/test_qwen3_gemma3_vs_transformers.py``
proves the logits equal transformers' within 1e-4.
"""

from __future__ import annotations

from dataclasses import dataclass

from .llama import LlamaBlock, LlamaConfig, LlamaModel, RMSNorm


@dataclass(frozen=True)
class Qwen3Config(LlamaConfig):
    """Hyper-parameters of a Qwen3 model; the defaults are Qwen3-0.6B's (its ``config.json``).

    >>> cfg = Qwen3Config()
    >>> cfg.n_heads * cfg.head_dim, cfg.emb_dim  # attention is wider than the residual stream
    (2048, 1024)
    """

    vocab_size: int = 151936  # Qwen's byte-level BPE and special tokens, padded to a multiple of 128
    context_length: int = 40960
    emb_dim: int = 1024
    n_heads: int = 16
    n_layers: int = 28
    n_kv_heads: int = 8  # two query heads share each key/value head
    hidden_dim: int = 3072
    rope_base: float = 1_000_000.0  # a slower-turning RoPE than Llama 2's 10,000: long contexts
    norm_eps: float = 1e-6
    tie_embeddings: bool = True  # the small Qwen3 models tie; the large ones have their own output head
    head_dim: int = 128  # per-head width, independent of emb_dim / n_heads

    POSITIVE_INTS = (*LlamaConfig.POSITIVE_INTS, "head_dim")


QWEN3_0_6B = Qwen3Config()
# Milliseconds per forward pass on a CPU: for tests and quick-mode notebooks. head_dim 24 with
# emb_dim 64 / 4 heads keeps the point of the family: the heads are not emb_dim / n_heads wide.
QWEN3_TINY = Qwen3Config(
    vocab_size=256,
    context_length=64,
    emb_dim=64,
    n_heads=4,
    n_layers=2,
    n_kv_heads=2,
    hidden_dim=160,
    head_dim=24,
)


class Qwen3Block(LlamaBlock):
    """``LlamaBlock`` whose attention normalizes each query and key head before RoPE (QK-norm)."""

    def __init__(self, cfg: Qwen3Config):
        super().__init__(cfg)
        self.att.q_norm = RMSNorm(cfg.head_dim, cfg.norm_eps)  # one scale per head dim, shared by all heads
        self.att.k_norm = RMSNorm(cfg.head_dim, cfg.norm_eps)


class Qwen3Model(LlamaModel):
    """``LlamaModel`` built from ``Qwen3Block``s; same interface (cache, padding, ``generate``)."""

    def __init__(self, cfg: Qwen3Config):
        if not isinstance(cfg, Qwen3Config):
            raise TypeError(f"Qwen3Model needs a Qwen3Config, got {type(cfg).__name__}")
        super().__init__(cfg)

    def make_block(self, layer: int) -> Qwen3Block:
        return Qwen3Block(self.cfg)
