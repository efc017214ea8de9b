"""Published Llama-family weights into ``LlamaModel``: HuggingFace's layout and llama.cpp's GGUF files.

Our parameter names follow HuggingFace's Llama layout (rotation by halves), so ``llama_from_hf`` /
``llama_to_hf`` only rename tensors. GGUF files need one more step: llama.cpp's converter reorders
the rows of the query and key weights inside each head (it rotates adjacent pairs with RoPE,
HuggingFace the two halves of a head); ``unpermute_rope_rows`` undoes it. ``load_llama_gguf``
builds a ``LlamaModel`` whose configuration comes entirely from the file's metadata.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import torch
from safetensors.torch import load_file

from ..model.llama import LlamaConfig, LlamaModel
from .gguf import GGUFFile, read_gguf

# --------------------------------------------------------------------------------------------
# HuggingFace's names
# --------------------------------------------------------------------------------------------

_HF_BLOCK = {
    "att_norm.weight": "input_layernorm.weight",
    "att.W_query.weight": "self_attn.q_proj.weight",
    "att.W_key.weight": "self_attn.k_proj.weight",
    "att.W_value.weight": "self_attn.v_proj.weight",
    "att.W_query.bias": "self_attn.q_proj.bias",
    "att.W_key.bias": "self_attn.k_proj.bias",
    "att.W_value.bias": "self_attn.v_proj.bias",
    "att.out_proj.weight": "self_attn.o_proj.weight",
    "ff_norm.weight": "post_attention_layernorm.weight",
    "ff.gate.weight": "mlp.gate_proj.weight",
    "ff.up.weight": "mlp.up_proj.weight",
    "ff.down.weight": "mlp.down_proj.weight",
}


def hf_outer_key_map(cfg: LlamaConfig) -> dict[str, str]:
    """The HuggingFace names of the tensors outside the blocks: token table, final norm, output head.

    A tied model (``cfg.tie_embeddings``) has no output head of its own, so no ``lm_head.weight``.
    """
    keys = {"tok_emb.weight": "model.embed_tokens.weight", "final_norm.weight": "model.norm.weight"}
    if not cfg.tie_embeddings:
        keys["out_head.weight"] = "lm_head.weight"
    return keys


def hf_llama_key_map(cfg: LlamaConfig) -> dict[str, str]:
    """``LlamaModel`` parameter name -> HuggingFace ``LlamaForCausalLM`` name (no transposes needed)."""
    keys = hf_outer_key_map(cfg)
    for i in range(cfg.n_layers):
        for ours, theirs in _HF_BLOCK.items():
            if ours.endswith(".bias") and not cfg.qkv_bias:
                continue
            keys[f"blocks.{i}.{ours}"] = f"model.layers.{i}.{theirs}"
    return keys


def load_llama_state_dict(
    model: LlamaModel, state: dict[str, torch.Tensor], *, assign: bool = False
) -> LlamaModel:
    """Load our-named ``state`` into ``model``, checking every name and shape; keeps tied weights tied."""
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    if model.cfg.tie_embeddings:
        expected.pop("out_head.weight", None)
        state = {k: v for k, v in state.items() if k != "out_head.weight"}
    missing, unexpected = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    if missing or unexpected:
        raise ValueError(
            f"weights do not fit the LlamaModel: missing {missing[:5]}, unexpected {unexpected[:5]}"
        )
    for name, shape in expected.items():
        if tuple(state[name].shape) != shape:
            raise ValueError(
                f"{name}: the weights have shape {tuple(state[name].shape)}, the model expects {shape}"
            )
    if model.cfg.tie_embeddings:
        state = dict(state, **{"out_head.weight": state["tok_emb.weight"]})
    model.load_state_dict(state, strict=True, assign=assign)
    if model.cfg.tie_embeddings:
        model.out_head.weight = model.tok_emb.weight  # assign=True replaced both; share one tensor again
    return model


def llama_from_hf(
    hf_state: dict[str, torch.Tensor], cfg: LlamaConfig, key_map: dict[str, str] | None = None
) -> dict[str, torch.Tensor]:
    """HuggingFace Llama state dict -> ``LlamaModel`` state dict (a missing or extra weight raises, naming it).

    ``key_map`` (ours -> theirs) defaults to ``hf_llama_key_map(cfg)``; later families pass their own.
    """
    key_map = hf_llama_key_map(cfg) if key_map is None else key_map
    extra = sorted(
        k for k in set(hf_state) - set(key_map.values()) if not (k == "lm_head.weight" and cfg.tie_embeddings)
    )
    if extra:
        raise KeyError(f"the HuggingFace weights have tensors this LlamaModel has no place for: {extra[:5]}")
    out = {}
    for ours, theirs in key_map.items():
        if theirs not in hf_state:
            raise KeyError(
                f"the HuggingFace weights have no {theirs!r} (needed for {ours!r}); is this a Llama model?"
            )
        out[ours] = hf_state[theirs]
    return out


def llama_to_hf(model: LlamaModel, key_map: dict[str, str] | None = None) -> dict[str, torch.Tensor]:
    """``LlamaModel`` -> HuggingFace Llama state dict (contiguous copies, ready for ``safetensors``)."""
    state = model.state_dict()
    key_map = hf_llama_key_map(model.cfg) if key_map is None else key_map
    return {theirs: state[ours].detach().clone().contiguous() for ours, theirs in key_map.items()}


def hf_config_sizes(hf_config: dict) -> dict[str, int]:
    """The sizes every Llama-family ``config.json`` names alike, under our names (a family adds its own).

    A missing ``num_key_value_heads`` means one key/value head per query head (plain multi-head).

    >>> hf_config_sizes({"vocab_size": 9, "max_position_embeddings": 8, "hidden_size": 4,
    ...                  "num_attention_heads": 2, "num_hidden_layers": 1, "intermediate_size": 6})
    {'vocab_size': 9, 'context_length': 8, 'emb_dim': 4, 'n_heads': 2, 'n_layers': 1, 'n_kv_heads': 2, 'hidden_dim': 6}
    """
    n_heads = hf_config["num_attention_heads"]
    return dict(
        vocab_size=hf_config["vocab_size"],
        context_length=hf_config["max_position_embeddings"],
        emb_dim=hf_config["hidden_size"],
        n_heads=n_heads,
        n_layers=hf_config["num_hidden_layers"],
        n_kv_heads=hf_config.get("num_key_value_heads") or n_heads,
        hidden_dim=hf_config["intermediate_size"],
    )


def llama_config_from_hf(hf_config: dict) -> LlamaConfig:
    """A ``LlamaConfig`` from a HuggingFace ``config.json`` (as a dict)."""
    if hf_config.get("model_type") not in (None, "llama"):
        raise ValueError(f"config.json describes a {hf_config.get('model_type')!r} model, not 'llama'")
    return LlamaConfig(
        **hf_config_sizes(hf_config),
        rope_base=float(
            hf_config.get("rope_theta", (hf_config.get("rope_parameters") or {}).get("rope_theta", 10000.0))
        ),
        norm_eps=float(hf_config.get("rms_norm_eps", 1e-5)),
        tie_embeddings=bool(hf_config.get("tie_word_embeddings", False)),
        qkv_bias=bool(hf_config.get("attention_bias", False)),
    )


def load_hf_llama(folder: str | Path, *, dtype: torch.dtype = torch.float32) -> LlamaModel:
    """A ``LlamaModel`` from a folder with HuggingFace's ``config.json`` and ``model.safetensors``."""
    return load_hf_folder(folder, llama_config_from_hf, LlamaModel, hf_llama_key_map, dtype=dtype)


def load_hf_folder(
    folder: str | Path,
    config_from_hf: Callable[[dict], LlamaConfig],
    model_class: type[LlamaModel],
    key_map: Callable[[LlamaConfig], dict[str, str]],
    *,
    dtype: torch.dtype = torch.float32,
) -> LlamaModel:
    """Any Llama-family model from a HuggingFace folder (``config.json``, ``model.safetensors``), in eval mode.

    ``config_from_hf`` reads the config, ``key_map(cfg)`` names our tensors after theirs; the model
    is built on the meta device and takes the file's tensors as they are (no copy, no random init).
    """
    folder = Path(folder)
    for name in ("config.json", "model.safetensors"):
        if not (folder / name).is_file():
            raise FileNotFoundError(
                f"{folder} has no {name}; a HuggingFace model folder needs config.json and model.safetensors"
            )
    cfg = config_from_hf(json.loads((folder / "config.json").read_text(encoding="utf-8")))
    hf_state = load_file(folder / "model.safetensors")
    with torch.device("meta"):
        model = model_class(cfg)
    load_llama_state_dict(model, llama_from_hf(hf_state, cfg, key_map(cfg)), assign=True)
    return model.to(dtype).eval()


# --------------------------------------------------------------------------------------------
# llama.cpp's GGUF files
# --------------------------------------------------------------------------------------------


def unpermute_rope_rows(weight: torch.Tensor, n_heads: int) -> torch.Tensor:
    """Undo llama.cpp's reordering of a query/key weight's rows, ``(n_heads * head_dim, emb_dim)``.

    Within each head HuggingFace's layout puts the first halves of the rotated pairs in rows
    ``0 .. head_dim/2 - 1`` and the second halves after them; llama.cpp interleaves them (row
    ``2i`` and ``2i + 1`` form pair ``i``). Rows ``[0, 1, 2, 3]`` of a 4-row head in llama.cpp's
    order are rows ``[0, 2, 1, 3]`` in HuggingFace's.

    >>> unpermute_rope_rows(torch.arange(4.0).reshape(4, 1), n_heads=1).flatten().tolist()
    [0.0, 2.0, 1.0, 3.0]
    """
    rows, cols = weight.shape
    head_dim = rows // n_heads
    w = weight.reshape(n_heads, head_dim // 2, 2, cols)  # llama.cpp: (head, pair, member, in)
    return w.transpose(1, 2).reshape(rows, cols)  # HF: (head, member, pair, in)


def permute_rope_rows(weight: torch.Tensor, n_heads: int) -> torch.Tensor:
    """The inverse of ``unpermute_rope_rows``: HuggingFace's row order -> llama.cpp's."""
    rows, cols = weight.shape
    w = weight.reshape(n_heads, 2, rows // n_heads // 2, cols)  # HF: (head, member, pair, in)
    return w.transpose(1, 2).reshape(rows, cols)


def llama_config_from_gguf(gguf: GGUFFile, **overrides) -> LlamaConfig:
    """The ``LlamaConfig`` stored in the file's metadata (``overrides`` e.g. ``context_length=2048``)."""
    meta = gguf.metadata
    arch = meta.get("general.architecture")
    if arch != "llama":
        raise ValueError(
            f"{gguf.path.name} holds a {arch!r} model; this loader builds 'llama' models only "
            "(Llama, SmolLM, Mistral-style files)"
        )

    def get(key):
        try:
            return meta[f"llama.{key}"]
        except KeyError:
            raise ValueError(f"{gguf.path.name}: metadata key 'llama.{key}' is missing") from None

    n_heads = int(get("attention.head_count"))
    values = dict(
        vocab_size=int(meta.get("llama.vocab_size", len(meta.get("tokenizer.ggml.tokens", [])) or 0)),
        context_length=int(get("context_length")),
        emb_dim=int(get("embedding_length")),
        n_heads=n_heads,
        n_layers=int(get("block_count")),
        n_kv_heads=int(meta.get("llama.attention.head_count_kv", n_heads)),
        hidden_dim=int(get("feed_forward_length")),
        rope_base=float(meta.get("llama.rope.freq_base", 10000.0)),
        norm_eps=float(get("attention.layer_norm_rms_epsilon")),
        tie_embeddings="output.weight"
        not in gguf.tensors,  # no separate output matrix: the token table is reused
        drop_rate=0.0,
    )
    values.update(overrides)
    return LlamaConfig(**values)


def gguf_key_map(n_layers: int, tie_embeddings: bool) -> dict[str, str]:
    """``LlamaModel`` parameter name -> GGUF tensor name."""
    keys = {"tok_emb.weight": "token_embd.weight", "final_norm.weight": "output_norm.weight"}
    if not tie_embeddings:
        keys["out_head.weight"] = "output.weight"
    per_block = {
        "att_norm.weight": "attn_norm.weight",
        "att.W_query.weight": "attn_q.weight",
        "att.W_key.weight": "attn_k.weight",
        "att.W_value.weight": "attn_v.weight",
        "att.out_proj.weight": "attn_output.weight",
        "ff_norm.weight": "ffn_norm.weight",
        "ff.gate.weight": "ffn_gate.weight",
        "ff.up.weight": "ffn_up.weight",
        "ff.down.weight": "ffn_down.weight",
    }
    for i in range(n_layers):
        keys |= {f"blocks.{i}.{ours}": f"blk.{i}.{theirs}" for ours, theirs in per_block.items()}
    return keys


def load_llama_gguf(
    path: str | Path | GGUFFile, *, dtype: torch.dtype = torch.float32, **config_overrides
) -> LlamaModel:
    """A ``LlamaModel`` with the dequantized weights of a GGUF file (configuration from its metadata)."""
    if not isinstance(path, GGUFFile):
        with read_gguf(path) as gguf:  # unmapped once the tensors are copied out
            return load_llama_gguf(gguf, dtype=dtype, **config_overrides)
    gguf = path
    cfg = llama_config_from_gguf(gguf, **config_overrides)
    state = {}
    for ours, theirs in gguf_key_map(cfg.n_layers, cfg.tie_embeddings).items():
        w = gguf.tensor(theirs)
        if ours.endswith("W_query.weight"):
            w = unpermute_rope_rows(w, cfg.n_heads)
        elif ours.endswith("W_key.weight"):
            w = unpermute_rope_rows(w, cfg.n_kv_heads)
        state[ours] = w
    with torch.device("meta"):
        model = LlamaModel(cfg)
    load_llama_state_dict(model, state, assign=True)
    return model.to(dtype).eval()
