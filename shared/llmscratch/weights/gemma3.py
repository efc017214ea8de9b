"""Gemma 3 text checkpoints in Hugging Face's layout (``Gemma3ForCausalLM``) into our ``Gemma3Model``.

The names, one oddity each:

- Gemma has four norms per layer, and Hugging Face calls the one *after* attention
  ``post_attention_layernorm``: in Llama that name is the norm *before* the feed-forward (our
  ``ff_norm``); in Gemma that one is ``pre_feedforward_layernorm`` and ``post_attention_layernorm``
  is our ``post_att_norm``.
- Norm weights are stored as Gemma's ``weight`` (the scale is ``1 + weight``), which is what
  ``GemmaRMSNorm`` holds too, so they copy over unchanged; nothing is transposed or reordered.
- The output head is the token table (``tie_word_embeddings``), so the file has no ``lm_head``.

``load_gemma3(size)`` downloads the pinned published checkpoint (``GEMMA3_REPOS``). Google's Gemma
repositories are gated: accept the licence on the model's Hub page and set ``HF_TOKEN`` (read by
``huggingface_hub``) before the first download. Offline it raises ``hub.HubUnavailable`` in one line.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..model.gemma3 import Gemma3Config, Gemma3Model
from .hub import download_pinned_model
from .llama import hf_config_sizes, hf_outer_key_map, llama_from_hf, llama_to_hf, load_hf_folder
from .qwen3 import rope_theta

GEMMA3_REPOS: dict[str, tuple[str, str]] = {
    "270m": ("google/gemma-3-270m", "9b0cfec892e2bc2afd938c98eabe4e4a7b1e0ca1"),
}

_HF_BLOCK = {
    "att_norm.weight": "input_layernorm.weight",
    "att.W_query.weight": "self_attn.q_proj.weight",
    "att.W_key.weight": "self_attn.k_proj.weight",
    "att.W_value.weight": "self_attn.v_proj.weight",
    "att.q_norm.weight": "self_attn.q_norm.weight",
    "att.k_norm.weight": "self_attn.k_norm.weight",
    "att.out_proj.weight": "self_attn.o_proj.weight",
    "post_att_norm.weight": "post_attention_layernorm.weight",  # not Llama's meaning of the name
    "ff_norm.weight": "pre_feedforward_layernorm.weight",
    "ff.gate.weight": "mlp.gate_proj.weight",
    "ff.up.weight": "mlp.up_proj.weight",
    "ff.down.weight": "mlp.down_proj.weight",
    "post_ff_norm.weight": "post_feedforward_layernorm.weight",
}


def hf_gemma3_key_map(cfg: Gemma3Config) -> dict[str, str]:
    """``Gemma3Model`` parameter name -> Hugging Face ``Gemma3ForCausalLM`` name.

    >>> hf_gemma3_key_map(Gemma3Config(n_layers=1))["blocks.0.ff_norm.weight"]
    'model.layers.0.pre_feedforward_layernorm.weight'
    """
    keys = hf_outer_key_map(cfg)
    for i in range(cfg.n_layers):
        keys |= {f"blocks.{i}.{ours}": f"model.layers.{i}.{theirs}" for ours, theirs in _HF_BLOCK.items()}
    return keys


def global_every_from_layer_types(layer_types: list[str]) -> int:
    """The period of a ``layer_types`` list that repeats (local x (k - 1), global); raises otherwise.

    >>> global_every_from_layer_types(["sliding_attention"] * 5 + ["full_attention"] + ["sliding_attention"])
    6
    """
    n = len(layer_types)
    every = next((i + 1 for i, kind in enumerate(layer_types) if kind == "full_attention"), n + 1)
    expected = ["full_attention" if (i + 1) % every == 0 else "sliding_attention" for i in range(n)]
    if list(layer_types) != expected:
        raise ValueError(
            f"config.json's layer_types {layer_types} are not (k - 1) local layers then one global, repeated"
        )
    return every


def gemma3_config_from_hf(hf_config: dict) -> Gemma3Config:
    """A ``Gemma3Config`` from a Hugging Face ``config.json`` of a text-only Gemma 3 (as a dict).

    Refuses what this model does not implement, one clear error each: logit soft-capping (Gemma 2's),
    bidirectional attention, RoPE scaling, another activation, a multimodal config.
    """
    kind = hf_config.get("model_type")
    if kind == "gemma3" or "text_config" in hf_config:
        raise ValueError(
            "config.json describes a multimodal Gemma 3; this loads text-only models (gemma3_text)"
        )
    if kind not in (None, "gemma3_text"):
        raise ValueError(f"config.json describes a {kind!r} model, not 'gemma3_text'")
    for name in ("final_logit_softcapping", "attn_logit_softcapping"):
        if hf_config.get(name) is not None:
            raise ValueError(f"config.json sets {name}={hf_config[name]}; Gemma3Model has no soft-capping")
    if hf_config.get("use_bidirectional_attention"):
        raise ValueError("config.json asks for bidirectional attention; Gemma3Model is causal")
    if hf_config.get("attention_bias"):
        raise ValueError("config.json asks for attention biases; Gemma3Model has none")
    act = hf_config.get("hidden_activation") or hf_config.get("hidden_act") or "gelu_pytorch_tanh"
    if act != "gelu_pytorch_tanh":
        raise ValueError(f"config.json asks for {act!r}; Gemma3Model's GeGLU uses gelu_pytorch_tanh")
    if not hf_config.get("sliding_window"):
        raise ValueError("config.json has no sliding_window")
    sizes = hf_config_sizes(hf_config)
    if hf_config.get("layer_types"):
        global_every = global_every_from_layer_types(hf_config["layer_types"])
    else:  # older files give the period itself
        global_every = (
            hf_config.get("sliding_window_pattern") or hf_config.get("_sliding_window_pattern") or 6
        )
    return Gemma3Config(
        **sizes,
        head_dim=hf_config.get("head_dim") or sizes["emb_dim"] // sizes["n_heads"],
        rope_base=rope_theta(hf_config, "full_attention"),
        local_rope_base=rope_theta(hf_config, "sliding_attention", legacy_key="rope_local_base_freq"),
        window=hf_config["sliding_window"],
        global_every=global_every,
        query_pre_attn_scalar=hf_config.get("query_pre_attn_scalar", 256),
        norm_eps=float(hf_config.get("rms_norm_eps", 1e-6)),
        tie_embeddings=bool(hf_config.get("tie_word_embeddings", True)),
    )


def gemma3_from_hf(hf_state: dict[str, torch.Tensor], cfg: Gemma3Config) -> dict[str, torch.Tensor]:
    """Hugging Face Gemma 3 state dict -> ``Gemma3Model`` state dict (a missing or extra tensor raises, naming it)."""
    return llama_from_hf(hf_state, cfg, hf_gemma3_key_map(cfg))


def gemma3_to_hf(model: Gemma3Model) -> dict[str, torch.Tensor]:
    """``Gemma3Model`` -> Hugging Face Gemma 3 state dict (contiguous copies, ready for ``safetensors``)."""
    return llama_to_hf(model, hf_gemma3_key_map(model.cfg))


def load_hf_gemma3(folder: str | Path, *, dtype: torch.dtype = torch.float32) -> Gemma3Model:
    """A ``Gemma3Model`` (eval mode) from a folder with Hugging Face's ``config.json`` and ``model.safetensors``."""
    return load_hf_folder(folder, gemma3_config_from_hf, Gemma3Model, hf_gemma3_key_map, dtype=dtype)


def load_gemma3(
    size: str = "270m",
    *,
    dtype: torch.dtype = torch.float32,
    cache: Path | None = None,
    endpoint: str | None = None,
) -> Gemma3Model:
    """A published Gemma 3 text checkpoint (``GEMMA3_REPOS``), downloaded once into the cache (online only)."""
    folder = download_pinned_model(
        GEMMA3_REPOS, size, family="Gemma 3", what=f"Gemma 3 {size}", cache=cache, endpoint=endpoint
    )
    return load_hf_gemma3(folder, dtype=dtype)
