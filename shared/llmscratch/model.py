"""The GPT model: embeddings, a stack of transformer blocks, a final norm and the output head.

``GPTModel(cfg)`` maps token ids ``(B, T)`` to next-token logits ``(B, T, vocab_size)``: the
logits at position ``t`` score every possible token ``t+1``. Its layers come from
``embeddings.py`` (input), ``layers.py`` (blocks, norm); generation loops live in ``generate.py``
and the GPT-2 weight mapping in ``weights.py``.

``count_parameters`` and ``parameter_memory_mib`` count each tensor once, so a model whose output
head shares the token-embedding table (``cfg.tie_embeddings``) is counted as it is stored.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .config import GPTConfig
from .embeddings import GPTEmbedding
from .kv_cache import KVCache
from .layers import LayerNorm, TransformerBlock


class GPTModel(nn.Module):
    """A GPT-2-style decoder-only transformer built from a ``GPTConfig``.

    ``forward(token_ids, kv_cache=None, last_only=False)``: pass a ``KVCache`` (``new_kv_cache()``)
    to process only new tokens after cached ones, and ``last_only=True`` to compute logits for the
    last position alone (all that generation needs; the output head is the model's widest layer).
    """

    def __init__(self, cfg: GPTConfig):
        super().__init__()
        if not isinstance(cfg, GPTConfig):
            raise TypeError(f"GPTModel needs a GPTConfig, got {type(cfg).__name__}; for a dict use GPTConfig(**d)")
        self.cfg = cfg
        self.emb = GPTEmbedding(cfg.vocab_size, cfg.context_length, cfg.emb_dim)
        self.drop_emb = nn.Dropout(cfg.drop_rate)
        self.blocks = nn.ModuleList(TransformerBlock(cfg) for _ in range(cfg.n_layers))
        self.final_norm = LayerNorm(cfg.emb_dim)
        self.out_head = nn.Linear(cfg.emb_dim, cfg.vocab_size, bias=False)
        if cfg.tie_embeddings:  # one (vocab_size, emb_dim) table both reads tokens in and scores them out
            self.out_head.weight = self.emb.tok_emb.weight
        self.init_weights()

    @torch.no_grad()
    def init_weights(self) -> None:
        """GPT-2's initialization (PyTorch's defaults would give huge initial logits).

        Every weight matrix and embedding ~ N(0, 0.02), every bias 0, norms start as the identity,
        and the two projections that write into the residual stream (``att.out_proj``, ``ff.proj``)
        get std 0.02 / sqrt(2 * n_layers): the stream is a sum of 2 * n_layers such outputs, so
        its variance then does not grow with depth (GPT-2 paper, section 2.3).
        """
        residual_std = 0.02 / math.sqrt(2 * self.cfg.n_layers)
        for name, param in self.named_parameters():  # a tied weight is listed (and set) once
            if name.endswith(("att.out_proj.weight", "ff.proj.weight")):
                nn.init.normal_(param, mean=0.0, std=residual_std)
            elif param.dim() >= 2:
                nn.init.normal_(param, mean=0.0, std=0.02)
            elif name.endswith("bias"):
                nn.init.zeros_(param)
            else:  # LayerNorm weight
                nn.init.ones_(param)

    def new_kv_cache(self) -> KVCache:
        """An empty cache with room for ``context_length`` tokens in every block."""
        return KVCache(self.cfg.n_layers, self.cfg.context_length)

    def forward(self, token_ids: torch.Tensor, kv_cache: KVCache | None = None, *, last_only: bool = False) -> torch.Tensor:
        if kv_cache is not None and len(kv_cache.layers) != len(self.blocks):
            raise ValueError(f"kv_cache has {len(kv_cache.layers)} layers but the model has {len(self.blocks)} blocks")
        start_pos = 0 if kv_cache is None else len(kv_cache)
        x = self.drop_emb(self.emb(token_ids, start_pos))  # (B, T) -> (B, T, C)
        for i, block in enumerate(self.blocks):
            x = block(x, None if kv_cache is None else kv_cache.layers[i])  # (B, T, C)
        x = self.final_norm(x)
        if last_only:
            x = x[:, -1:, :]  # (B, T, C) -> (B, 1, C)
        return self.out_head(x)  # (B, T, C) -> (B, T, V)


def count_parameters(model: nn.Module, *, trainable_only: bool = False) -> int:
    """Number of parameters, each shared tensor counted once.

    >>> count_parameters(nn.Linear(3, 2))  # 3*2 weights + 2 biases
    8
    """
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def parameter_memory_mib(model: nn.Module) -> float:
    """Memory of the parameters in MiB (2**20 bytes), at their current dtype.

    Buffers (such as attention's causal masks) and the activations and optimizer state of training
    come on top.
    """
    return sum(p.numel() * p.element_size() for p in model.parameters()) / 2**20
