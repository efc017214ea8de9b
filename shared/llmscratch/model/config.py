"""The GPT hyper-parameters as one frozen dataclass, plus named presets.

``GPTConfig`` holds everything needed to *build* a model (sizes, dropout, biases, weight tying);
nothing about training (learning rate, batch size) lives here. Its defaults are GPT-2 small, the
124M-parameter model. The presets are the four published GPT-2 sizes and ``TINY``, a model small
enough for tests and quick-mode notebooks that still takes GPT-2's token ids.

A config is frozen (it is shared by every layer of a model, so nobody may change it underneath
them); make a variant with ``cfg.with_(drop_rate=0.0)``. ``ModelConfig`` holds the checks and
``with_`` that every model family's config shares (``llama.LlamaConfig`` adds its own checks).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..constants import ATTN_IMPLS, GPT2_VOCAB_SIZE


class ModelConfig:
    """What every model family's frozen config dataclass shares: validation, ``head_dim``, ``with_()``."""

    POSITIVE_INTS = ("vocab_size", "context_length", "emb_dim", "n_heads", "n_layers")

    def __post_init__(self) -> None:
        for name in self.POSITIVE_INTS:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.emb_dim % self.n_heads != 0:
            raise ValueError(
                f"emb_dim={self.emb_dim} is not divisible by n_heads={self.n_heads}: each head gets "
                f"emb_dim / n_heads dims, so emb_dim must be a multiple of n_heads "
                f"(e.g. {self.n_heads * (self.emb_dim // self.n_heads + 1)})"
            )
        if not 0.0 <= self.drop_rate < 1.0:
            raise ValueError(f"drop_rate must be in [0, 1), got {self.drop_rate} (1.0 would drop everything)")

    @property
    def head_dim(self) -> int:
        """Dimensions per attention head (``emb_dim // n_heads``)."""
        return self.emb_dim // self.n_heads

    def with_(self, **changes):
        """A copy with some fields changed (validated again), e.g. ``GPT2_124M.with_(drop_rate=0.0)``."""
        fields = [f.name for f in dataclasses.fields(self)]
        unknown = set(changes) - set(fields)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field(s) {sorted(unknown)}; fields: {fields}")
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class GPTConfig(ModelConfig):
    """Hyper-parameters of a GPT model; the defaults are GPT-2 small (124M).

    >>> GPTConfig().with_(n_layers=2).n_layers
    2
    """

    vocab_size: int = GPT2_VOCAB_SIZE  # GPT-2's BPE: 256 bytes + 50,000 merges + <|endoftext|>
    context_length: int = 1024  # longest input; GPT-2 learned exactly 1024 position vectors
    emb_dim: int = 768  # width of every token vector (the residual stream)
    n_heads: int = 12  # emb_dim is split across heads: 768 / 12 = 64 dims per head
    n_layers: int = 12  # transformer blocks stacked
    drop_rate: float = 0.1  # GPT-2 trained with 10% dropout; use 0.0 for inference or small fine-tunes
    qkv_bias: bool = True  # GPT-2's q/k/v projections have biases; needed to load its weights
    tie_embeddings: bool = (
        True  # GPT-2 reuses the token table as the output layer (saves vocab_size * emb_dim params)
    )
    attn_impl: str = "sdpa"  # "sdpa": PyTorch's fused kernels (O(T) memory); "teaching": chapter 3's masked softmax. Same weights.

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.attn_impl not in ATTN_IMPLS:
            raise ValueError(f"attn_impl must be one of {ATTN_IMPLS}, got {self.attn_impl!r}")


# The published GPT-2 sizes (Radford et al. 2019, table 2; sizes as counted with tied embeddings).
GPT2_124M = GPTConfig()
GPT2_355M = GPTConfig(emb_dim=1024, n_heads=16, n_layers=24)
GPT2_774M = GPTConfig(emb_dim=1280, n_heads=20, n_layers=36)
GPT2_1558M = GPTConfig(emb_dim=1600, n_heads=25, n_layers=48)

# Small enough that a forward pass takes milliseconds on a CPU, but it still reads GPT-2 token ids.
TINY = GPTConfig(context_length=64, emb_dim=64, n_heads=4, n_layers=2)

PRESETS: dict[str, GPTConfig] = {
    "gpt2-124M": GPT2_124M,
    "gpt2-355M": GPT2_355M,
    "gpt2-774M": GPT2_774M,
    "gpt2-1558M": GPT2_1558M,
    "tiny": TINY,
}
