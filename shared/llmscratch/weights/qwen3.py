"""Qwen3 checkpoints in Hugging Face's layout (``Qwen3ForCausalLM``) into our ``Qwen3Model``.

Qwen3's tensor names are Llama's (``weights.llama``) plus two per layer, the QK-norm scales
``self_attn.q_norm.weight`` and ``self_attn.k_norm.weight``; no tensor needs transposing or
reordering (our RoPE rotates by halves, as Hugging Face's does).

- ``hf_qwen3_key_map(cfg)``: our name -> theirs, for every tensor (the one map both directions use);
- ``qwen3_config_from_hf(config)``: a ``Qwen3Config`` from ``config.json``, refusing options this
  model does not implement (sliding-window layers, RoPE scaling, an output-projection bias);
- ``load_hf_qwen3(folder)``: a model from a folder holding ``config.json`` and ``model.safetensors``;
- ``load_qwen3(size)``: downloads the pinned published checkpoint into our cache first (online
  only; offline it raises ``hub.HubUnavailable`` in one line). Qwen3-0.6B is 1.5 GB in bfloat16.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..model.qwen3 import Qwen3Config, Qwen3Model
from .hub import download_pinned_model
from .llama import hf_config_sizes, hf_llama_key_map, llama_from_hf, llama_to_hf, load_hf_folder

# Published checkpoints, each pinned to one commit of its Hub repository (config.json + model.safetensors).
QWEN3_REPOS: dict[str, tuple[str, str]] = {
    "0.6B": ("Qwen/Qwen3-0.6B", "c1899de289a04d12100db370d81485cdf75e47ca"),
}


def hf_qwen3_key_map(cfg: Qwen3Config) -> dict[str, str]:
    """``Qwen3Model`` parameter name -> Hugging Face ``Qwen3ForCausalLM`` name.

    >>> hf_qwen3_key_map(Qwen3Config(n_layers=1))["blocks.0.att.q_norm.weight"]
    'model.layers.0.self_attn.q_norm.weight'
    """
    keys = hf_llama_key_map(cfg)
    for i in range(cfg.n_layers):
        keys[f"blocks.{i}.att.q_norm.weight"] = f"model.layers.{i}.self_attn.q_norm.weight"
        keys[f"blocks.{i}.att.k_norm.weight"] = f"model.layers.{i}.self_attn.k_norm.weight"
    return keys


def rope_theta(hf_config: dict, layer_type: str | None = None, legacy_key: str = "rope_theta") -> float:
    """The RoPE base in a ``config.json``, as transformers 5 writes it or as transformers 4 did.

    Version 5 keeps it in ``rope_parameters`` (per layer type for Gemma 3: ``"full_attention"``,
    ``"sliding_attention"``); version 4 in ``rope_theta`` (Gemma 3's local layers:
    ``rope_local_base_freq``, pass it as ``legacy_key``) with scaling options in ``rope_scaling``.
    Raises unless the RoPE is the plain one (no linear, YaRN or dynamic scaling).

    >>> rope_theta({"rope_theta": 1e6}), rope_theta({"rope_parameters": {"rope_type": "default", "rope_theta": 5e5}})
    (1000000.0, 500000.0)
    """
    params = hf_config.get("rope_parameters") or {}
    if layer_type is not None:
        params = params.get(layer_type) or {}
    if params:
        kind, theta = params.get("rope_type", "default"), params.get("rope_theta")
    else:  # transformers 4: the scaling options belong to the (global) rope_theta only
        scaling = (hf_config.get("rope_scaling") or {}) if legacy_key == "rope_theta" else {}
        kind, theta = scaling.get("rope_type", scaling.get("type", "default")), hf_config.get(legacy_key)
    if kind != "default":
        raise ValueError(f"config.json asks for {kind!r} RoPE scaling; this model implements plain RoPE only")
    if theta is None:
        raise ValueError(f"config.json has no RoPE base ({legacy_key} or rope_parameters)")
    return float(theta)


def qwen3_config_from_hf(hf_config: dict) -> Qwen3Config:
    """A ``Qwen3Config`` from a Hugging Face ``config.json`` (as a dict)."""
    if hf_config.get("model_type") not in (None, "qwen3"):
        raise ValueError(f"config.json describes a {hf_config.get('model_type')!r} model, not 'qwen3'")
    if hf_config.get("use_sliding_window"):
        raise ValueError(
            "config.json turns on Qwen's sliding-window layers, which this model does not implement"
        )
    if hf_config.get("attention_bias"):
        raise ValueError("config.json asks for attention biases (o_proj too); Qwen3Model has none")
    if hf_config.get("hidden_act", "silu") != "silu":
        raise ValueError(f"config.json asks for hidden_act={hf_config['hidden_act']!r}; Qwen3 uses silu")
    sizes = hf_config_sizes(hf_config)
    return Qwen3Config(
        **sizes,
        head_dim=hf_config.get("head_dim") or sizes["emb_dim"] // sizes["n_heads"],
        rope_base=rope_theta(hf_config),
        norm_eps=float(hf_config.get("rms_norm_eps", 1e-6)),
        tie_embeddings=bool(hf_config.get("tie_word_embeddings", False)),
    )


def qwen3_from_hf(hf_state: dict[str, torch.Tensor], cfg: Qwen3Config) -> dict[str, torch.Tensor]:
    """Hugging Face Qwen3 state dict -> ``Qwen3Model`` state dict (a missing or extra tensor raises, naming it)."""
    return llama_from_hf(hf_state, cfg, hf_qwen3_key_map(cfg))


def qwen3_to_hf(model: Qwen3Model) -> dict[str, torch.Tensor]:
    """``Qwen3Model`` -> Hugging Face Qwen3 state dict (contiguous copies, ready for ``safetensors``)."""
    return llama_to_hf(model, hf_qwen3_key_map(model.cfg))


def load_hf_qwen3(folder: str | Path, *, dtype: torch.dtype = torch.float32) -> Qwen3Model:
    """A ``Qwen3Model`` (eval mode) from a folder with Hugging Face's ``config.json`` and ``model.safetensors``."""
    return load_hf_folder(folder, qwen3_config_from_hf, Qwen3Model, hf_qwen3_key_map, dtype=dtype)


def load_qwen3(
    size: str = "0.6B",
    *,
    dtype: torch.dtype = torch.float32,
    cache: Path | None = None,
    endpoint: str | None = None,
) -> Qwen3Model:
    """A published Qwen3 checkpoint (``QWEN3_REPOS``), downloaded once into the cache (online only)."""
    folder = download_pinned_model(
        QWEN3_REPOS, size, family="Qwen3", what=f"Qwen3-{size}", cache=cache, endpoint=endpoint
    )
    return load_hf_qwen3(folder, dtype=dtype)
