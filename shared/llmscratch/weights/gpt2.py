"""GPT-2's weight layout (OpenAI's checkpoints, HuggingFace ``GPT2LMHeadModel``) <-> ``GPTModel``.

The two models compute the same function; only the names and storage of the tensors differ. The
map below pairs every GPT-2 tensor with ours and checks each shape before anything is loaded, so
a wrong checkpoint fails with the key and both shapes instead of a silent mismatch. The oddities:

1. **Conv1D weights are stored transposed.** GPT-2's code used a "Conv1D" layer that computes
   ``x @ W + b`` with ``W`` of shape ``(in, out)``; ``nn.Linear`` computes ``x @ W.T + b`` with
   ``W`` of shape ``(out, in)``. So ``c_attn``, ``c_proj`` and ``c_fc`` weights are transposed.
2. **Queries, keys and values are fused.** ``attn.c_attn`` is one ``(C, 3C)`` projection whose
   output columns are ``[q | k | v]``; we split it into ``W_query``, ``W_key``, ``W_value``.
3. **The output head is tied.** GPT-2 reuses ``wte`` as ``lm_head``; checkpoints may omit
   ``lm_head.weight``. A model with ``tie_embeddings=False`` gets a copy of ``wte``.
4. **Prefixes and buffers.** ``GPT2LMHeadModel`` prefixes names with ``transformer.``, the bare
   ``GPT2Model`` does not; both are accepted. Older ``transformers`` versions also saved the
   causal mask as ``attn.bias`` / ``attn.masked_bias``: constants, not weights, so they are skipped.

Loading real GPT-2 weights from the hub is chapter 5's job; this module only maps tensors.
Nothing here imports ``transformers``: ``config_from_hf`` reads a config's attributes and
``hf_config_kwargs`` returns plain keyword arguments for ``GPT2Config``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from ..constants import EOT_ID
from ..model.attention import QKV_NAMES
from ..model.config import GPTConfig

HF_PREFIX = "transformer."
_MASK_BUFFER = re.compile(r"^h\.\d+\.attn\.(bias|masked_bias)$")  # oddity 4: old causal-mask buffers
_TANH_GELU = ("gelu_new", "gelu_pytorch_tanh")  # HF's names for the tanh approximation we use
_LN_EPS = 1e-5  # our LayerNorm's epsilon, GPT-2's too
# Our GPTConfig field -> HuggingFace GPT2Config field, for the sizes (read both ways, written once).
HF_CONFIG_FIELDS = {
    "vocab_size": "vocab_size",
    "context_length": "n_positions",
    "emb_dim": "n_embd",
    "n_heads": "n_head",
    "n_layers": "n_layer",
}


def config_from_hf(hf_config: Any) -> GPTConfig:
    """A ``GPTConfig`` for a HuggingFace ``GPT2Config`` (read by attribute; no import needed).

    Raises ``ValueError`` for GPT-2 variants our model does not compute (another activation,
    LayerNorm epsilon or MLP width). HF has three dropout rates; ``resid_pdrop`` is used.
    """
    problems = []
    if hf_config.activation_function not in _TANH_GELU:
        problems.append(
            f"activation_function={hf_config.activation_function!r} (we use the tanh GELU, 'gelu_new')"
        )
    if hf_config.layer_norm_epsilon != _LN_EPS:
        problems.append(f"layer_norm_epsilon={hf_config.layer_norm_epsilon} (our LayerNorm uses {_LN_EPS})")
    if getattr(hf_config, "n_inner", None) not in (None, 4 * hf_config.n_embd):
        problems.append(
            f"n_inner={hf_config.n_inner} (our FeedForward is 4 * n_embd = {4 * hf_config.n_embd} wide)"
        )
    if getattr(hf_config, "scale_attn_by_inverse_layer_idx", False):
        problems.append("scale_attn_by_inverse_layer_idx=True (we scale by 1/sqrt(head_dim) only)")
    if problems:
        raise ValueError("this GPT-2 config differs from our GPTModel: " + "; ".join(problems))
    return GPTConfig(
        **{ours: getattr(hf_config, theirs) for ours, theirs in HF_CONFIG_FIELDS.items()},
        drop_rate=hf_config.resid_pdrop,
        qkv_bias=True,  # GPT-2's c_attn always has a bias
        tie_embeddings=bool(getattr(hf_config, "tie_word_embeddings", True)),
    )


def hf_config_kwargs(cfg: GPTConfig) -> dict[str, Any]:
    """Keyword arguments for ``transformers.GPT2Config`` describing the same model as ``cfg``."""
    return dict(
        **{theirs: getattr(cfg, ours) for ours, theirs in HF_CONFIG_FIELDS.items()},
        activation_function=_TANH_GELU[0],
        layer_norm_epsilon=_LN_EPS,
        resid_pdrop=cfg.drop_rate,
        embd_pdrop=cfg.drop_rate,
        attn_pdrop=cfg.drop_rate,
        tie_word_embeddings=cfg.tie_embeddings,
        # GPT-2 starts and ends documents with <|endoftext|>; a smaller test vocabulary has no such id.
        bos_token_id=EOT_ID if cfg.vocab_size > EOT_ID else None,
        eos_token_id=EOT_ID if cfg.vocab_size > EOT_ID else None,
    )


def key_map(n_layers: int) -> list[tuple[str, str, bool]]:
    """``(GPT-2 name, our name, transposed?)`` for every tensor except the fused q/k/v and ``lm_head``.

    >>> key_map(1)[2]
    ('h.0.ln_1.weight', 'blocks.0.norm1.weight', False)
    """
    pairs = [("wte.weight", "emb.tok_emb.weight", False), ("wpe.weight", "emb.pos_emb.weight", False)]
    for i in range(n_layers):
        h, b = f"h.{i}.", f"blocks.{i}."
        pairs += [
            (h + "ln_1.weight", b + "norm1.weight", False),
            (h + "ln_1.bias", b + "norm1.bias", False),
            (h + "attn.c_proj.weight", b + "att.out_proj.weight", True),  # Conv1D: (in, out)
            (h + "attn.c_proj.bias", b + "att.out_proj.bias", False),
            (h + "ln_2.weight", b + "norm2.weight", False),
            (h + "ln_2.bias", b + "norm2.bias", False),
            (h + "mlp.c_fc.weight", b + "ff.fc.weight", True),  # Conv1D: (in, out)
            (h + "mlp.c_fc.bias", b + "ff.fc.bias", False),
            (h + "mlp.c_proj.weight", b + "ff.proj.weight", True),  # Conv1D: (in, out)
            (h + "mlp.c_proj.bias", b + "ff.proj.bias", False),
        ]
    return pairs + [("ln_f.weight", "final_norm.weight", False), ("ln_f.bias", "final_norm.bias", False)]


def _shape(t: torch.Tensor | torch.Size) -> tuple[int, ...]:
    return tuple(t.shape if torch.is_tensor(t) else t)


def load_gpt2_state_dict(model: nn.Module, hf_state_dict: Mapping[str, torch.Tensor]) -> nn.Module:
    """Copy GPT-2-layout weights into ``model`` (a ``GPTModel``), checking every key and shape.

    Raises ``KeyError`` for a missing tensor, ``ValueError`` for a mis-shaped one (naming the GPT-2
    key, our key and both shapes), for leftover tensors the model has no place for, or for a
    bias/tying mismatch. Returns ``model``.
    """
    n_layers = len(model.blocks)
    source = {k.removeprefix(HF_PREFIX): v for k, v in hf_state_dict.items()}  # oddity 4
    source = {k: v for k, v in source.items() if not _MASK_BUFFER.match(k)}
    target = model.state_dict()  # our names and the shapes they must have
    used: set[str] = set()
    loaded: dict[str, torch.Tensor] = {}

    def take(hf_key: str, expected: tuple[int, ...], for_ours: str) -> torch.Tensor:
        if hf_key not in source:
            raise KeyError(
                f"the GPT-2 state dict has no {hf_key!r} (needed for {for_ours!r}); is it a {n_layers}-layer GPT-2?"
            )
        tensor = source[hf_key]
        if _shape(tensor) != expected:
            raise ValueError(
                f"{hf_key!r} has shape {_shape(tensor)} but the model needs {expected} (for {for_ours!r}); "
                "the checkpoint does not match the GPTConfig"
            )
        used.add(hf_key)
        return tensor

    for hf_key, our_key, transposed in key_map(n_layers):
        want = _shape(target[our_key])
        tensor = take(hf_key, want[::-1] if transposed else want, our_key)
        loaded[our_key] = tensor.t() if transposed else tensor  # oddity 1

    for i in range(n_layers):
        h, att = f"h.{i}.attn.c_attn.", f"blocks.{i}.att."
        d_out, d_in = _shape(target[att + "W_query.weight"])
        fused = take(h + "weight", (d_in, 3 * d_out), att + "W_query/W_key/W_value.weight")  # (C, 3C)
        for name, weight in zip(
            QKV_NAMES, fused.t().chunk(3, dim=0)
        ):  # (C, 3C) -> (3C, C) -> 3 x (C, C); oddities 1, 2
            loaded[f"{att}{name}.weight"] = weight
        if att + "W_query.bias" in target:
            for name, bias in zip(
                QKV_NAMES, take(h + "bias", (3 * d_out,), att + "W_query/W_key/W_value.bias").chunk(3)
            ):
                loaded[f"{att}{name}.bias"] = bias
        elif h + "bias" in source:
            bias = source[h + "bias"]
            if bool(bias.any()):
                raise ValueError(
                    f"{h + 'bias'!r} holds q/k/v biases but the model was built with qkv_bias=False; "
                    "build it with cfg.with_(qkv_bias=True)"
                )
            used.add(h + "bias")  # all-zero biases (e.g. exported from a bias-free model) change nothing

    tok_emb = loaded["emb.tok_emb.weight"]
    if "lm_head.weight" in source:
        lm_head = take("lm_head.weight", _shape(target["out_head.weight"]), "out_head.weight")
    else:  # oddity 3: a tied checkpoint may omit it
        lm_head = tok_emb
    if model.out_head.weight is model.emb.tok_emb.weight and not torch.equal(lm_head, tok_emb):
        raise ValueError(
            "the checkpoint's lm_head.weight differs from wte.weight but the model ties out_head to "
            "tok_emb; build it with cfg.with_(tie_embeddings=False)"
        )
    loaded["out_head.weight"] = lm_head

    leftover = sorted(set(source) - used)
    if leftover:
        raise ValueError(
            f"the GPT-2 state dict has {len(leftover)} tensor(s) the model has no place for, e.g. {leftover[:3]}; "
            f"the model has n_layers={n_layers}"
        )
    with torch.no_grad():
        model.load_state_dict(loaded, strict=True)
    return model


def to_gpt2_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """``model``'s weights under ``GPT2LMHeadModel``'s names and layouts (contiguous copies).

    Load the result into a ``GPT2LMHeadModel(GPT2Config(**hf_config_kwargs(model.cfg)))``; that
    config ties ``lm_head`` exactly when ``model`` does. A model without q/k/v biases exports zero
    biases, which compute the same thing.
    """
    ours = model.state_dict()
    out: dict[str, torch.Tensor] = {}
    for hf_key, our_key, transposed in key_map(len(model.blocks)):
        tensor = ours[our_key]
        out[HF_PREFIX + hf_key] = (tensor.t() if transposed else tensor).contiguous()
    for i in range(len(model.blocks)):
        att, h = f"blocks.{i}.att.", f"{HF_PREFIX}h.{i}.attn.c_attn."
        weights = [ours[f"{att}{name}.weight"] for name in QKV_NAMES]  # 3 x (C, C)
        out[h + "weight"] = torch.cat(weights, dim=0).t().contiguous()  # 3 x (C, C) -> (3C, C) -> (C, 3C)
        if f"{att}W_query.bias" in ours:
            out[h + "bias"] = torch.cat(
                [ours[f"{att}{name}.bias"] for name in QKV_NAMES]
            ).contiguous()  # (3C,)
        else:
            out[h + "bias"] = weights[0].new_zeros(3 * weights[0].shape[0])
    out["lm_head.weight"] = ours["out_head.weight"].contiguous()
    return out
