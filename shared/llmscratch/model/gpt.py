"""The GPT model: embeddings, a stack of transformer blocks, a final norm and the output head.

``GPTModel(cfg)`` maps token ids ``(B, T)`` to next-token logits ``(B, T, vocab_size)``: the
logits at position ``t`` score every possible token ``t+1``. Its layers come from
``embeddings`` (input), ``block`` (blocks, norm); generation loops live in ``generate``
and the GPT-2 weight mapping in ``weights.gpt2``.

``count_parameters`` and ``parameter_memory_mib`` count each tensor once, so a model whose output
head shares the token-embedding table (``cfg.tie_embeddings``) is counted as it is stored.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .attention import future_mask, hidden_positions
from .block import LayerNorm, TransformerBlock
from .config import GPTConfig
from .embeddings import GPTEmbedding, check_token_ids
from .kv_cache import KVCache


class GPTModel(nn.Module):
    """A GPT-2-style decoder-only transformer built from a ``GPTConfig``.

    ``forward(token_ids, kv_cache=None, *, attention_mask=None, last_only=False)``: pass a
    ``KVCache`` (``new_kv_cache()``) to process only new tokens after cached ones, an
    ``attention_mask`` for a batch of left-padded rows, and ``last_only=True`` to compute logits for
    the last position alone (all that generation needs; the output head is the model's widest layer).
    ``cfg.attn_impl`` picks the attention arithmetic (``"sdpa"`` or chapter 3's ``"teaching"``);
    both have the same parameters, so a state dict loads into either.
    """

    def __init__(self, cfg: GPTConfig):
        super().__init__()
        if not isinstance(cfg, GPTConfig):
            raise TypeError(
                f"GPTModel needs a GPTConfig, got {type(cfg).__name__}; for a dict use GPTConfig(**d)"
            )
        self.cfg = cfg
        self.emb = GPTEmbedding(cfg.vocab_size, cfg.context_length, cfg.emb_dim)
        self.drop_emb = nn.Dropout(cfg.drop_rate)
        self.blocks = nn.ModuleList(TransformerBlock(cfg) for _ in range(cfg.n_layers))
        self.final_norm = LayerNorm(cfg.emb_dim)
        self.out_head = nn.Linear(cfg.emb_dim, cfg.vocab_size, bias=False)
        # One causal mask for all blocks (True = a later token), not one per layer; rebuilt, not saved.
        self.register_buffer(
            "causal_mask", future_mask(cfg.context_length, cfg.context_length), persistent=False
        )
        if cfg.tie_embeddings:  # one (vocab_size, emb_dim) table both reads tokens in and scores them out
            self.out_head.weight = self.emb.tok_emb.weight
        self.init_weights()

    @torch.no_grad()
    def init_weights(self, scheme: str = "gpt2") -> None:
        """Re-initialize every parameter: ``scheme="gpt2"`` (the default) or ``"torch"``.

        ``"gpt2"``: every weight matrix and embedding ~ N(0, 0.02), every bias 0, norms start as the
        identity, and the two projections that write into the residual stream (``att.out_proj``,
        ``ff.proj``) get std 0.02 / sqrt(2 * n_layers): the stream is a sum of 2 * n_layers such
        outputs, so its variance then does not grow with depth (GPT-2 paper, section 2.3). It is the
        right start for long runs on much text with a learning-rate warmup (and the layout GPT-2's
        released weights were trained from). Its weights are small, though, and Adam's first step
        moves every weight by about ``lr`` whatever the size of its gradient: at lr 4e-4 without warmup
        that is 2% of a typical 0.02-sized weight (10% of a 124M model's residual projections) per
        step, and chapter 5 measures the loss jumping after three such steps.

        ``"torch"``: each layer's own PyTorch default (``reset_parameters``): embeddings ~ N(0, 1),
        ``nn.Linear`` weights and biases uniform in +-1/sqrt(fan_in), norms the identity, so the
        same step is 0.04% of a typical embedding weight. Meant for an untied head: with a tied
        one the shared table ends with the output layer's init (applied last), not N(0, 1).
        """
        if scheme not in ("gpt2", "torch"):
            raise ValueError(f"scheme must be 'gpt2' or 'torch', got {scheme!r}")
        if scheme == "torch":
            for module in self.modules():
                if module is not self and hasattr(module, "reset_parameters"):
                    module.reset_parameters()
            for name, param in self.named_parameters():  # our LayerNorm has no reset_parameters
                if param.dim() == 1 and "norm" in name:
                    nn.init.ones_(param) if name.endswith("weight") else nn.init.zeros_(param)
            return
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

    def forward(
        self,
        token_ids: torch.Tensor,
        kv_cache: KVCache | None = None,
        *,
        attention_mask: torch.Tensor | None = None,
        last_only: bool = False,
    ) -> torch.Tensor:
        """Logits ``(B, T, vocab_size)`` for token ids ``(B, T)`` (``(B, 1, vocab_size)`` with ``last_only``).

        ``attention_mask`` ``(B, T)``: 1/True = real token, 0/False = left padding (None = all
        real). Padding keys are hidden from every query, and positions count only each row's real
        tokens, so a left-padded row gets the same logits for its real tokens as the row unpadded
        (padding positions get finite logits that mean nothing). With a ``kv_cache`` the cache
        remembers the mask of the tokens it holds: pass only the new tokens and their mask.
        """
        if kv_cache is not None and len(kv_cache.layers) != len(self.blocks):
            raise ValueError(
                f"kv_cache has {len(kv_cache.layers)} layers but the model has {len(self.blocks)} blocks"
            )
        check_token_ids(token_ids, self.cfg.vocab_size)
        if attention_mask is not None and tuple(attention_mask.shape) != tuple(token_ids.shape):
            raise ValueError(
                f"attention_mask must have the shape of token_ids {tuple(token_ids.shape)}, got {tuple(attention_mask.shape)}; "
                "with a kv_cache give the mask of the new tokens only"
            )
        past, n_new = (0 if kv_cache is None else len(kv_cache)), token_ids.shape[1]
        real = (
            None if attention_mask is None else attention_mask.to(device=token_ids.device, dtype=torch.bool)
        )
        if kv_cache is not None:
            real = kv_cache.record(
                token_ids, real
            )  # (B, past + T) or None: the cache keeps the mask of its tokens
        positions = None
        if real is not None:  # positions count real tokens only: (B, past + T) -> the new tokens' (B, T)
            positions = (real.long().cumsum(dim=-1) - 1).clamp(min=0)[:, past:]
        hidden = self._hidden(past, n_new, real)
        x = self.drop_emb(
            self.emb(token_ids, past, positions=positions, sparse_grad=self._sparse_token_grad())
        )  # (B, T) -> (B, T, C)
        for i, block in enumerate(self.blocks):
            x = block(x, None if kv_cache is None else kv_cache.layers[i], hidden)  # (B, T, C)
        x = self.final_norm(x)
        if last_only:
            x = x[:, -1:, :]  # (B, T, C) -> (B, 1, C)
        return self.out_head(x)  # (B, T, C) -> (B, T, V)

    def _sparse_token_grad(self) -> bool:
        """Whether the token lookup should hand back a sparse gradient (a speed-up, same numbers).

        With tied embeddings the table gets two gradients: a dense one from the output layer and one
        from the lookup that is zero except in the rows of the batch's token ids. The autograd engine
        adds them before storing ``.grad``; a sparse lookup gradient is added into the dense one in
        place, instead of first filling a (vocab_size, emb_dim) table of zeros (154 MB for GPT-2)
        and adding it. The stored ``.grad`` is dense either way. Only on the CPU (measured there;
        sparse kernels are missing on some devices), only when training the tied table, and not
        under ``torch.compile``.
        """
        head = getattr(self.out_head, "weight", None)  # a replaced head (e.g. a classifier) may not tie
        table = self.emb.tok_emb.weight
        return (
            head is table
            and table.requires_grad
            and table.device.type == "cpu"
            and torch.is_grad_enabled()
            and not torch.compiler.is_compiling()
        )

    def _hidden(self, past: int, n_new: int, real: torch.Tensor | None) -> torch.Tensor | None:
        """One mask of hidden positions for every block (``attention.hidden_positions``), or None.

        None lets the SDPA path use its fastest kernels: no padding, and either no cached prefix
        (``is_causal``) or a single new token (it may see every cached one).
        """
        n_all = past + n_new
        if n_all > self.cfg.context_length:
            return None  # the embedding raises the clear error
        if self.cfg.attn_impl == "sdpa" and real is None and (past == 0 or n_new == 1):
            return None
        future = self.causal_mask[past:n_all, :n_all]  # (T, past + T): a view of the one shared buffer
        return hidden_positions(future, None if real is None else ~real)


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
