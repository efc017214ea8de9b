"""Published Qwen3-MoE and DeepSeek-V3 weights into ``MoEModel`` / ``MLAModel``: name maps and two fix-ups.

The maps go from the layout of the published checkpoints (HuggingFace ``model.safetensors``
files: one ``mlp.experts.{j}.gate_proj.weight`` etc. per expert) to our names; nothing is
transposed. Two tensors need more than a new name:

- transformers 5 keeps all experts of a layer *stacked* in memory (``mlp.experts.gate_up_proj``
  ``(E, 2 * moe_hidden, emb)`` with the gate rows first, ``mlp.experts.down_proj`` ``(E, emb,
  moe_hidden)``); ``split_stacked_experts`` / ``stack_experts`` convert between that and the files;
- DeepSeek rotates *adjacent* pairs of the RoPE dims (``rope_interleave``), our RoPE the two halves
  of the rotated part: the rows producing those dims are reordered (``weights.llama``'s
  ``unpermute_rope_rows``, the same fix llama.cpp's files need). The scores are identical.

Not covered: DeepSeek-V3's FP8 block-quantized tensors (``weight_scale_inv``), its YaRN RoPE
extension, and Qwen3-MoE's ``mlp_only_layers`` / ``decoder_sparse_step``; each raises a clear error.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import torch
from safetensors.torch import load_file

from ..model.mla import MLAConfig, MLAModel
from ..model.moe import MoEConfig, MoEModel
from .llama import hf_outer_key_map, load_llama_state_dict, permute_rope_rows, unpermute_rope_rows

_ATTENTION = {  # Qwen3-MoE (grouped-query attention with QK-norm)
    "att.W_query.weight": "self_attn.q_proj.weight",
    "att.W_key.weight": "self_attn.k_proj.weight",
    "att.W_value.weight": "self_attn.v_proj.weight",
    "att.out_proj.weight": "self_attn.o_proj.weight",
    "att.q_norm.weight": "self_attn.q_norm.weight",
    "att.k_norm.weight": "self_attn.k_norm.weight",
}
_LATENT_ATTENTION = {  # DeepSeek-V3; the three query entries only with q_lora_rank > 0, else W_query
    "att.W_query_down.weight": "self_attn.q_a_proj.weight",
    "att.query_norm.weight": "self_attn.q_a_layernorm.weight",
    "att.W_query_up.weight": "self_attn.q_b_proj.weight",
    "att.W_kv_down.weight": "self_attn.kv_a_proj_with_mqa.weight",
    "att.kv_norm.weight": "self_attn.kv_a_layernorm.weight",
    "att.W_kv_up.weight": "self_attn.kv_b_proj.weight",
    "att.out_proj.weight": "self_attn.o_proj.weight",
}
_SWIGLU = {
    "gate.weight": "gate_proj.weight",
    "up.weight": "up_proj.weight",
    "down.weight": "down_proj.weight",
}


def hf_moe_key_map(cfg: MoEConfig) -> dict[str, str]:
    """Our parameter name -> the published checkpoint's, for a Qwen3-MoE (``MoEConfig``) or DeepSeek-V3 (``MLAConfig``)."""
    keys = hf_outer_key_map(cfg)
    if isinstance(cfg, MLAConfig):
        attention = dict(_LATENT_ATTENTION)
        if not cfg.q_lora_rank:
            for ours in ("att.W_query_down.weight", "att.query_norm.weight", "att.W_query_up.weight"):
                del attention[ours]
            attention["att.W_query.weight"] = "self_attn.q_proj.weight"
    else:
        attention = (
            dict(_ATTENTION) if cfg.qk_norm else {k: v for k, v in _ATTENTION.items() if "_norm" not in k}
        )
    for i in range(cfg.n_layers):
        ours, theirs = f"blocks.{i}.", f"model.layers.{i}."
        block = {
            "att_norm.weight": "input_layernorm.weight",
            "ff_norm.weight": "post_attention_layernorm.weight",
        }
        block |= attention
        if not cfg.is_moe_layer(i):
            block |= {f"ff.{a}": f"mlp.{b}" for a, b in _SWIGLU.items()}
        else:
            block["ff.router.weight"] = "mlp.gate.weight"
            if cfg.router == "sigmoid_grouped":
                block["ff.router.score_bias"] = "mlp.gate.e_score_correction_bias"
            for j in range(cfg.n_experts):
                block |= {f"ff.experts.{j}.{a}": f"mlp.experts.{j}.{b}" for a, b in _SWIGLU.items()}
            if cfg.n_shared_experts:
                block |= {f"ff.shared.{a}": f"mlp.shared_experts.{b}" for a, b in _SWIGLU.items()}
        keys |= {ours + a: theirs + b for a, b in block.items()}
    return keys


_STACKED = re.compile(r"(.*\.mlp\.experts)\.(gate_up_proj|down_proj)$")


def split_stacked_experts(hf_state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """transformers 5's stacked expert tensors -> one tensor per expert, as the published files store them.

    >>> sd = {"m.mlp.experts.gate_up_proj": torch.arange(8.0).view(1, 4, 2)}
    >>> split_stacked_experts(sd)["m.mlp.experts.0.up_proj.weight"].tolist()  # rows 2-3: the up half
    [[4.0, 5.0], [6.0, 7.0]]
    """
    out = {}
    for name, tensor in hf_state.items():
        match = _STACKED.match(name)
        if match is None:
            out[name] = tensor
            continue
        prefix, kind = match.groups()
        for j, expert in enumerate(tensor):  # (E, rows, cols) -> E x (rows, cols)
            if kind == "down_proj":
                out[f"{prefix}.{j}.down_proj.weight"] = expert
            else:
                gate, up = expert.chunk(2, dim=0)  # (2 * moe_hidden, emb) -> 2 x (moe_hidden, emb)
                out[f"{prefix}.{j}.gate_proj.weight"], out[f"{prefix}.{j}.up_proj.weight"] = gate, up
    return out


def stack_experts(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The inverse of ``split_stacked_experts``: per-expert tensors -> transformers 5's stacked ones."""
    per_expert = re.compile(r"(.*\.mlp\.experts)\.(\d+)\.(gate_proj|up_proj|down_proj)\.weight$")
    out, groups = {}, {}
    for name, tensor in state.items():
        match = per_expert.match(name)
        if match is None:
            out[name] = tensor
        else:
            prefix, j, kind = match.groups()
            groups.setdefault(prefix, {}).setdefault(int(j), {})[kind] = tensor
    for prefix, experts in groups.items():
        order = sorted(experts)
        out[f"{prefix}.gate_up_proj"] = torch.stack(
            [torch.cat([experts[j]["gate_proj"], experts[j]["up_proj"]]) for j in order]
        )
        out[f"{prefix}.down_proj"] = torch.stack([experts[j]["down_proj"] for j in order])
    return out


def _reorder_rope_rows(weight: torch.Tensor, n_heads: int, plain: int, rotated: int, fix) -> torch.Tensor:
    """Apply ``fix`` (un/permute_rope_rows) to the last ``rotated`` rows of each of ``n_heads`` row blocks."""
    w = weight.reshape(n_heads, plain + rotated, -1)  # (H, plain + rotated, in)
    rope = fix(w[:, plain:].reshape(n_heads * rotated, -1), n_heads).reshape(n_heads, rotated, -1)
    return torch.cat([w[:, :plain], rope], dim=1).reshape(weight.shape)


def _rope_fixes(cfg: MoEConfig) -> dict[str, tuple[int, int, int]]:
    """Our weight names whose rows feed RoPE -> (row blocks, plain rows, rotated rows) per block."""
    if not isinstance(cfg, MLAConfig):
        return {}
    query = "att.W_query_up.weight" if cfg.q_lora_rank else "att.W_query.weight"
    return {
        query: (cfg.n_heads, cfg.qk_nope_head_dim, cfg.qk_rope_head_dim),
        "att.W_kv_down.weight": (1, cfg.kv_lora_rank, cfg.qk_rope_head_dim),
    }


def moe_from_hf(hf_state: dict[str, torch.Tensor], cfg: MoEConfig, *, rope_interleave: bool = True):
    """A published (or transformers-5 in-memory) Qwen3-MoE / DeepSeek-V3 state dict -> our names.

    ``rope_interleave`` (DeepSeek's config key, True in its published models) reorders the RoPE rows;
    it is ignored for Qwen3-MoE. A missing or extra tensor raises, naming it; DeepSeek-V3's
    multi-token-prediction layer (``model.layers.{n_layers}.*``) is not part of next-token decoding
    and is skipped.
    """
    hf_state = split_stacked_experts(hf_state)
    key_map = hf_moe_key_map(cfg)
    if any(name.endswith("weight_scale_inv") for name in hf_state):
        raise ValueError("these weights are FP8 block-quantized (weight_scale_inv); dequantize them first")
    mtp = f"model.layers.{cfg.n_layers}."
    extra = sorted(
        k
        for k in set(hf_state) - set(key_map.values())
        if not (k == "lm_head.weight" and cfg.tie_embeddings) and not k.startswith(mtp)
    )
    if extra:
        raise KeyError(f"the HuggingFace weights have tensors this model has no place for: {extra[:5]}")
    fixes = _rope_fixes(cfg) if rope_interleave else {}
    out = {}
    for ours, theirs in key_map.items():
        if theirs not in hf_state:
            raise KeyError(f"the HuggingFace weights have no {theirs!r} (needed for {ours!r})")
        tensor = hf_state[theirs]
        fix = fixes.get(ours.split(".", 2)[-1]) if ours.startswith("blocks.") else None
        out[ours] = tensor if fix is None else _reorder_rope_rows(tensor, *fix, unpermute_rope_rows)
    return out


def moe_to_hf(model: MoEModel, *, rope_interleave: bool = True) -> dict[str, torch.Tensor]:
    """Our model -> the published checkpoint layout (one tensor per expert; contiguous copies)."""
    state = model.state_dict()
    fixes = _rope_fixes(model.cfg) if rope_interleave else {}
    out = {}
    for ours, theirs in hf_moe_key_map(model.cfg).items():
        tensor = state[ours].detach().clone()
        fix = fixes.get(ours.split(".", 2)[-1]) if ours.startswith("blocks.") else None
        out[theirs] = (
            tensor if fix is None else _reorder_rope_rows(tensor, *fix, permute_rope_rows)
        ).contiguous()
    return out


def _rope_base(hf_config: dict) -> float:
    rope = hf_config.get("rope_parameters") or hf_config.get("rope_scaling") or {}
    kind = rope.get("rope_type", rope.get("type", "default"))
    if kind not in ("default", None):
        raise ValueError(f"RoPE scaling {kind!r} is not implemented here; only plain RoPE is")
    return float(hf_config.get("rope_theta", rope.get("rope_theta", 10_000.0)))


def moe_config_from_hf(hf_config: dict) -> MoEConfig:
    """Our config from a HuggingFace ``config.json`` (as a dict): ``qwen3_moe`` -> ``MoEConfig``,
    ``deepseek_v3`` -> ``MLAConfig``."""
    kind = hf_config.get("model_type")
    common = dict(
        vocab_size=hf_config["vocab_size"],
        context_length=hf_config["max_position_embeddings"],
        emb_dim=hf_config["hidden_size"],
        n_heads=hf_config["num_attention_heads"],
        n_layers=hf_config["num_hidden_layers"],
        hidden_dim=hf_config["intermediate_size"],
        rope_base=_rope_base(hf_config),
        norm_eps=float(hf_config.get("rms_norm_eps", 1e-6)),
        tie_embeddings=bool(hf_config.get("tie_word_embeddings", False)),
        top_k=hf_config["num_experts_per_tok"],
        moe_hidden_dim=hf_config["moe_intermediate_size"],
        norm_topk_prob=bool(hf_config.get("norm_topk_prob", False)),
    )
    if hf_config.get("attention_bias"):
        raise ValueError("attention_bias=True is not supported (these models have no attention biases)")
    if kind == "qwen3_moe":
        if hf_config.get("mlp_only_layers") or hf_config.get("decoder_sparse_step", 1) != 1:
            raise ValueError(
                "mlp_only_layers / decoder_sparse_step are not supported: every block must be MoE"
            )
        if hf_config.get("use_sliding_window"):
            raise ValueError("use_sliding_window=True is not supported")
        n_experts = hf_config.get("num_experts", hf_config.get("num_local_experts"))
        return MoEConfig(
            **common,
            n_kv_heads=hf_config["num_key_value_heads"],
            attn_head_dim=hf_config.get("head_dim"),
            qk_norm=True,
            n_experts=n_experts,
        )
    if kind == "deepseek_v3":
        return MLAConfig(
            **common,
            n_kv_heads=hf_config["num_attention_heads"],
            n_experts=hf_config.get("n_routed_experts", hf_config.get("num_local_experts")),
            router="sigmoid_grouped",
            n_groups=hf_config["n_group"],
            topk_groups=hf_config["topk_group"],
            routed_scale=float(hf_config["routed_scaling_factor"]),
            n_shared_experts=hf_config.get("n_shared_experts") or 0,
            n_dense_layers=hf_config["first_k_dense_replace"],
            q_lora_rank=hf_config.get("q_lora_rank") or 0,
            kv_lora_rank=hf_config["kv_lora_rank"],
            qk_nope_head_dim=hf_config["qk_nope_head_dim"],
            qk_rope_head_dim=hf_config["qk_rope_head_dim"],
            v_head_dim=hf_config["v_head_dim"],
        )
    raise ValueError(
        f"config.json describes a {kind!r} model; this loader reads 'qwen3_moe' and 'deepseek_v3'"
    )


def load_hf_moe(folder: str | Path, *, dtype: torch.dtype = torch.float32) -> MoEModel:
    """An ``MoEModel`` / ``MLAModel`` from a HuggingFace folder (``config.json`` and one or more safetensors files)."""
    folder = Path(folder)
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise FileNotFoundError(f"{folder} has no config.json")
    hf_config = json.loads(config_path.read_text(encoding="utf-8"))
    cfg = moe_config_from_hf(hf_config)
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        files = sorted(set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values()))
    elif (folder / "model.safetensors").is_file():
        files = ["model.safetensors"]
    else:
        raise FileNotFoundError(f"{folder} has neither model.safetensors nor model.safetensors.index.json")
    hf_state = {}
    for name in files:
        hf_state |= load_file(folder / name)
    state = moe_from_hf(hf_state, cfg, rope_interleave=bool(hf_config.get("rope_interleave", True)))
    with torch.device("meta"):
        model = MLAModel(cfg) if isinstance(cfg, MLAConfig) else MoEModel(cfg)
    load_llama_state_dict(model, state, assign=True)
    return model.to(dtype).eval()
