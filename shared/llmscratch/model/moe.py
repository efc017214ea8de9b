"""Mixture of experts (Qwen3-MoE style): the Llama sibling with its feed-forward split into many experts.

A dense block sends every token through one big SwiGLU. A mixture-of-experts (MoE) block holds
``n_experts`` smaller SwiGLUs and a *router*, a linear layer that scores every expert for every
token; each token then goes through its ``top_k`` best experts only, and their outputs are added,
weighted by the router. The model stores all experts but runs ``top_k`` of them per token, so it has
many more parameters than it spends compute on (``count_active_parameters`` says how many of each).

What differs from ``llama.LlamaModel``, one line each (everything else is inherited):

- ``MoEFeedForward`` replaces ``SwiGLU`` in every block from ``n_dense_layers`` on; experts *are*
  ``SwiGLU`` modules, only narrower (``moe_hidden_dim``);
- ``Router`` picks the experts, with one of two rules (``cfg.router``):
  ``"softmax"`` (Qwen3-MoE): softmax over all experts, keep the ``top_k`` largest, and with
  ``norm_topk_prob`` rescale the kept ones to sum to 1;
  ``"sigmoid_grouped"`` (DeepSeek-V3): an independent sigmoid score per expert; a per-expert bias
  (``score_bias``, adjusted during training to balance the load, not by gradients) shifts the
  *choice* but not the weights; experts come in ``n_groups`` groups and only the ``topk_groups``
  best groups may be chosen from; the kept scores are renormalized and scaled by ``routed_scale``;
- ``n_shared_experts`` (DeepSeek-V3): a SwiGLU every token goes through, on top of the routed ones;
- ``QKNormAttention`` (Qwen3, with ``qk_norm``): grouped-query attention with an RMSNorm over each
  head's queries and keys before RoPE; ``attn_head_dim`` decouples the head width from ``emb_dim``.

After each forward pass every MoE layer keeps how many tokens each expert received
(``MoEModel.expert_load()``), so a notebook can plot the load on real text. ``mla`` builds
DeepSeek-V3's latent attention on top of this module; ``weights.moe`` maps HuggingFace's weights in.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .gpt import count_parameters
from .llama import GroupedQueryAttention, LlamaBlock, LlamaConfig, LlamaModel, RMSNorm, SwiGLU, apply_rope

ROUTERS = ("softmax", "sigmoid_grouped")


@dataclass(frozen=True)
class MoEConfig(LlamaConfig):
    """A Llama config plus the experts; the defaults are Qwen3-30B-A3B's (128 experts, 8 active).

    >>> cfg = MoEConfig()
    >>> cfg.top_k * cfg.moe_hidden_dim, cfg.head_dim  # the active FFN width per token, and the head width
    (6144, 128)
    """

    vocab_size: int = 151_936
    context_length: int = 40_960
    emb_dim: int = 2048
    n_heads: int = 32
    n_layers: int = 48
    n_kv_heads: int = 4
    hidden_dim: int = 6144  # width of the dense SwiGLU in the first n_dense_layers blocks (if any)
    rope_base: float = 1_000_000.0
    norm_eps: float = 1e-6
    tie_embeddings: bool = False
    attn_head_dim: int | None = 128  # None = emb_dim // n_heads; Qwen3 sets it (32 heads x 128 > 2048)
    qk_norm: bool = True  # Qwen3: RMSNorm over each head's queries and keys (before RoPE)
    n_experts: int = 128
    top_k: int = 8  # experts per token
    moe_hidden_dim: int = 768  # each expert's SwiGLU width
    norm_topk_prob: bool = True  # rescale the top_k router weights to sum to 1 (transformers' name)
    router: str = "softmax"  # one of ROUTERS; see Router
    n_groups: int = 1  # "sigmoid_grouped": experts are split into this many groups ...
    topk_groups: int = 1  # ... and only the best topk_groups groups may be chosen from
    routed_scale: float = 1.0  # multiplies the routed experts' weights (DeepSeek-V3: 2.5)
    n_shared_experts: int = 0  # experts every token passes through (one SwiGLU n_shared x wider)
    n_dense_layers: int = 0  # the first blocks keep a dense SwiGLU (DeepSeek-V3: 3)

    POSITIVE_INTS = (
        *LlamaConfig.POSITIVE_INTS,
        "n_experts",
        "top_k",
        "moe_hidden_dim",
        "n_groups",
        "topk_groups",
    )

    @property
    def head_dim(self) -> int:
        """Dimensions per attention head: ``attn_head_dim`` if set, else ``emb_dim // n_heads``."""
        return self.attn_head_dim or self.emb_dim // self.n_heads

    def __post_init__(self) -> None:
        if self.attn_head_dim is not None and (
            not isinstance(self.attn_head_dim, int)
            or isinstance(self.attn_head_dim, bool)
            or self.attn_head_dim < 1
        ):
            raise ValueError(f"attn_head_dim must be a positive integer or None, got {self.attn_head_dim!r}")
        super().__post_init__()
        if self.top_k > self.n_experts:
            raise ValueError(
                f"top_k={self.top_k} experts per token, but there are only n_experts={self.n_experts}"
            )
        if self.router not in ROUTERS:
            raise ValueError(f"router must be one of {ROUTERS}, got {self.router!r}")
        if not 0 <= self.n_dense_layers <= self.n_layers:
            raise ValueError(
                f"n_dense_layers must be between 0 and n_layers={self.n_layers}, got {self.n_dense_layers}"
            )
        if self.n_shared_experts < 0:
            raise ValueError(f"n_shared_experts must be 0 or more, got {self.n_shared_experts}")
        if not self.routed_scale > 0:
            raise ValueError(f"routed_scale must be positive, got {self.routed_scale}")
        if self.router == "sigmoid_grouped":
            self._check_groups()

    def _check_groups(self) -> None:
        if self.n_experts % self.n_groups:
            raise ValueError(f"n_experts={self.n_experts} must split evenly into n_groups={self.n_groups}")
        per_group = self.n_experts // self.n_groups
        if per_group < 2:
            raise ValueError(
                f"each group needs 2 experts or more (a group's score is its best two), got {per_group}"
            )
        if self.topk_groups > self.n_groups:
            raise ValueError(f"topk_groups={self.topk_groups} is more than n_groups={self.n_groups}")
        if self.top_k > self.topk_groups * per_group:
            raise ValueError(
                f"top_k={self.top_k} experts cannot come from {self.topk_groups} group(s) of {per_group}; "
                "raise topk_groups or lower top_k"
            )

    def is_moe_layer(self, layer: int) -> bool:
        """Whether block ``layer`` (from 0) has experts; the first ``n_dense_layers`` stay dense."""
        return layer >= self.n_dense_layers


QWEN3_30B_A3B = MoEConfig()
# A few milliseconds per forward pass: 8 experts, 2 per token, for tests and quick-mode notebooks.
MOE_TINY = MoEConfig(
    vocab_size=256,
    context_length=64,
    emb_dim=64,
    n_heads=4,
    n_layers=2,
    n_kv_heads=2,
    hidden_dim=128,
    rope_base=10_000.0,
    attn_head_dim=None,
    n_experts=8,
    top_k=2,
    moe_hidden_dim=32,
)


@dataclass
class Routing:
    """Which experts each of ``N`` tokens goes to, and with what weight."""

    experts: torch.Tensor  # (N, top_k) expert ids
    weights: torch.Tensor  # (N, top_k) multiplies each chosen expert's output
    scores: torch.Tensor  # (N, n_experts) softmax probabilities or sigmoid scores, before the choice


class Router(nn.Module):
    """``weight`` ``(n_experts, emb_dim)`` scores every expert for a token; ``forward`` keeps the ``top_k`` best.

    Scores are computed in float32 (a bfloat16 tie would change which expert wins).
    """

    def __init__(self, cfg: MoEConfig):
        super().__init__()
        self.cfg = cfg
        self.weight = nn.Parameter(torch.empty(cfg.n_experts, cfg.emb_dim))
        if (
            cfg.router == "sigmoid_grouped"
        ):  # a buffer: set by a load-balancing rule, not learned by gradients
            self.register_buffer("score_bias", torch.zeros(cfg.n_experts))
        nn.init.normal_(self.weight, std=0.02)

    def forward(self, x: torch.Tensor) -> Routing:
        """``x`` ``(N, emb_dim)`` token vectors -> their ``Routing``."""
        logits = F.linear(x.float(), self.weight.float())  # (N, C) -> (N, E)
        if self.cfg.router == "softmax":
            scores = logits.softmax(dim=-1)  # (N, E), each row sums to 1
            weights, experts = scores.topk(self.cfg.top_k, dim=-1)  # (N, k) each
        else:
            scores = logits.sigmoid()  # (N, E), each expert scored on its own
            experts = self._grouped_choice(scores + self.score_bias)  # (N, k)
            weights = scores.gather(1, experts)  # the bias chose; the weights are the plain scores
        if self.cfg.norm_topk_prob:
            weights = weights / (weights.sum(dim=-1, keepdim=True) + 1e-20)
        return Routing(experts, (weights * self.cfg.routed_scale).to(x.dtype), scores)

    def _grouped_choice(self, choice: torch.Tensor) -> torch.Tensor:
        """The ``top_k`` experts by ``choice`` ``(N, E)``, taken only from the ``topk_groups`` best groups.

        A group's score is the sum of its two best experts' scores.
        """
        n, cfg = choice.shape[0], self.cfg
        groups = choice.view(n, cfg.n_groups, -1)  # (N, E) -> (N, G, E / G)
        group_score = groups.topk(2, dim=-1).values.sum(dim=-1)  # (N, G)
        best = group_score.topk(cfg.topk_groups, dim=-1).indices  # (N, topk_groups)
        allowed = torch.zeros_like(group_score, dtype=torch.bool).scatter_(1, best, True)  # (N, G)
        choice = groups.masked_fill(~allowed.unsqueeze(-1), float("-inf")).view(n, -1)  # (N, E)
        return choice.topk(cfg.top_k, dim=-1).indices  # (N, k)


class MoEFeedForward(nn.Module):
    """``sum_i weight_i * expert_i(x)`` over each token's ``top_k`` routed experts (+ the shared expert).

    ``load`` holds, after each forward pass, the ``(n_experts,)`` number of tokens each expert
    processed (every token counts ``top_k`` times, once per expert it went to).
    """

    def __init__(self, cfg: MoEConfig):
        super().__init__()
        self.router = Router(cfg)
        expert = cfg.with_(hidden_dim=cfg.moe_hidden_dim)
        self.experts = nn.ModuleList(SwiGLU(expert) for _ in range(cfg.n_experts))
        self.shared = (
            SwiGLU(cfg.with_(hidden_dim=cfg.n_shared_experts * cfg.moe_hidden_dim))
            if cfg.n_shared_experts
            else None
        )
        self.load: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, c = x.shape
        tokens = x.reshape(b * t, c)  # (B, T, C) -> (N, C)
        routing = self.router(tokens)
        out = torch.zeros_like(tokens)  # (N, C)
        load = torch.bincount(routing.experts.flatten(), minlength=len(self.experts))  # (E,)
        for e in load.nonzero().flatten().tolist():  # only the experts some token chose
            # which tokens chose expert e, and in which of their top_k slots
            rows, slot = (routing.experts == e).nonzero(as_tuple=True)
            weight = routing.weights[rows, slot].unsqueeze(-1)  # (n_e, 1)
            out.index_add_(0, rows, self.experts[e](tokens[rows]) * weight)  # (n_e, C) added to those rows
        if self.shared is not None:
            out = out + self.shared(tokens)
        self.load = load.detach()
        return out.view(b, t, c)  # (N, C) -> (B, T, C)


def attend_heads(module: nn.Module, queries, keys, values, attn_mask, n_heads: int, n_kv_heads: int):
    """``F.scaled_dot_product_attention`` as ``GroupedQueryAttention`` calls it (same ``attn_mask`` convention).

    ``attn_mask``: None (plain causal), ``"none"`` (see every key) or a bool ``(B, 1, T, T_all)``.
    """
    if n_kv_heads != n_heads and queries.device.type == "mps":  # enable_gqa is not on every backend
        keys = keys.repeat_interleave(n_heads // n_kv_heads, dim=1)
        values = values.repeat_interleave(n_heads // n_kv_heads, dim=1)
    return F.scaled_dot_product_attention(
        queries,
        keys,
        values,
        attn_mask=None if attn_mask is None or isinstance(attn_mask, str) else attn_mask,
        is_causal=attn_mask is None,
        dropout_p=module.drop_rate if module.training else 0.0,
        enable_gqa=n_kv_heads != n_heads,
    )  # (B, H, T, D_v)


class QKNormAttention(GroupedQueryAttention):
    """``GroupedQueryAttention`` plus QK-norm (Qwen3): an RMSNorm over each head's queries and keys, before RoPE.

    What changed: two ``RMSNorm(head_dim)`` (``q_norm``, ``k_norm``, shared by all heads) and the two
    lines that apply them; the attention scores can no longer grow just because q or k grew.
    """

    def __init__(self, cfg: LlamaConfig):
        super().__init__(cfg)
        self.q_norm = RMSNorm(cfg.head_dim, cfg.norm_eps)
        self.k_norm = RMSNorm(cfg.head_dim, cfg.norm_eps)

    def forward(self, x, cos, sin, attn_mask=None, cache=None) -> torch.Tensor:
        b, t, _ = x.shape
        queries = self.q_norm(self._split(self.W_query(x), self.n_heads))  # (B, H, T, D), per head
        keys = self.k_norm(self._split(self.W_key(x), self.n_kv_heads))  # (B, H_kv, T, D)
        queries, keys = apply_rope(queries, cos, sin), apply_rope(keys, cos, sin)
        values = self._split(self.W_value(x), self.n_kv_heads)  # (B, H_kv, T, D)
        if cache is not None:
            keys, values = cache.append(keys, values)  # (B, H_kv, T_all, D)
        context = attend_heads(self, queries, keys, values, attn_mask, self.n_heads, self.n_kv_heads)
        return self.out_proj(context.transpose(1, 2).reshape(b, t, self.n_heads * self.head_dim))  # (B, T, C)


class MoEBlock(LlamaBlock):
    """``LlamaBlock``'s residual equations (its ``forward``) around other sub-layers.

    ``att``: grouped-query attention (with QK-norm if ``cfg.qk_norm``) unless given; ``ff``: a
    ``MoEFeedForward``, or a dense ``SwiGLU`` in the first ``n_dense_layers`` blocks.
    """

    def __init__(self, cfg: MoEConfig, layer: int, att: nn.Module | None = None):
        # not LlamaBlock.__init__: its dense sub-layers would be built only to be thrown away
        nn.Module.__init__(self)
        self.att_norm = RMSNorm(cfg.emb_dim, cfg.norm_eps)
        if att is None:
            att = QKNormAttention(cfg) if cfg.qk_norm else GroupedQueryAttention(cfg)
        self.att = att
        self.ff_norm = RMSNorm(cfg.emb_dim, cfg.norm_eps)
        self.ff = MoEFeedForward(cfg) if cfg.is_moe_layer(layer) else SwiGLU(cfg)


@dataclass
class ExpertLoad:
    """Tokens per expert in the last forward pass: ``counts[i, e]`` for MoE layer ``layers[i]``."""

    layers: list[int]  # block indices of the MoE layers
    counts: torch.Tensor  # (n_moe_layers, n_experts), each row sums to top_k * tokens


@dataclass
class ParameterCount:
    """Parameters a model stores (``total``) and the ones one token passes through (``active``)."""

    total: int
    active: int


class MoEModel(LlamaModel):
    """A Llama-style decoder whose blocks are ``MoEBlock``; same interface as ``LlamaModel``."""

    def __init__(self, cfg: MoEConfig):
        if not isinstance(cfg, MoEConfig):
            raise TypeError(f"{type(self).__name__} needs a MoEConfig, got {type(cfg).__name__}")
        super().__init__(cfg)

    def make_block(self, layer: int) -> nn.Module:
        return MoEBlock(self.cfg, layer)

    def expert_load(self) -> ExpertLoad:
        """How many tokens each expert of each MoE layer processed in the last forward pass.

        Padding tokens are routed too and counted; with a KV cache a pass covers only the new tokens.
        """
        layers = [i for i, block in enumerate(self.blocks) if isinstance(block.ff, MoEFeedForward)]
        if any(self.blocks[i].ff.load is None for i in layers):
            raise RuntimeError("no forward pass yet: run the model on some tokens first")
        return ExpertLoad(layers, torch.stack([self.blocks[i].ff.load for i in layers]))


def count_active_parameters(model: MoEModel) -> ParameterCount:
    """All parameters, and those one token uses: the routed experts it does not go to are not active.

    >>> counts = count_active_parameters(MoEModel(MOE_TINY))
    >>> counts.total > counts.active
    True
    """
    total = count_parameters(model)
    idle = 0
    for block in model.blocks:
        if isinstance(block.ff, MoEFeedForward):
            per_expert = count_parameters(block.ff.experts[0])
            idle += (len(block.ff.experts) - model.cfg.top_k) * per_expert
    return ParameterCount(total=total, active=total - idle)
