"""weights.moe without transformers: the maps round-trip, stacked experts split and stack back, the RoPE
row reordering is its own inverse pair, folders of safetensors files (one or sharded) load, and every
unsupported input gets one clear error."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import save_file

from llmscratch.model.mla import MLA_TINY, MLAModel
from llmscratch.model.moe import MOE_TINY, MoEModel
from llmscratch.weights.llama import load_llama_state_dict
from llmscratch.weights.moe import (
    hf_moe_key_map,
    load_hf_moe,
    moe_config_from_hf,
    moe_from_hf,
    moe_to_hf,
    split_stacked_experts,
    stack_experts,
)

MOE = MOE_TINY.with_(vocab_size=97, context_length=16, attn_head_dim=12)
MLA = MLA_TINY.with_(vocab_size=97, context_length=16, tie_embeddings=False)


def randomized(model):
    torch.manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.3)
        for name, b in model.named_buffers():
            if name.endswith("score_bias"):
                b.normal_(0, 0.3)
    return model.eval()


def hf_config(cfg) -> dict:
    """The config.json a HuggingFace folder would hold for ``cfg``."""
    out = dict(
        vocab_size=cfg.vocab_size,
        max_position_embeddings=cfg.context_length,
        hidden_size=cfg.emb_dim,
        num_attention_heads=cfg.n_heads,
        num_hidden_layers=cfg.n_layers,
        intermediate_size=cfg.hidden_dim,
        rope_theta=cfg.rope_base,
        rms_norm_eps=cfg.norm_eps,
        tie_word_embeddings=cfg.tie_embeddings,
        num_experts_per_tok=cfg.top_k,
        moe_intermediate_size=cfg.moe_hidden_dim,
        norm_topk_prob=cfg.norm_topk_prob,
    )
    if isinstance(cfg, type(MLA)):
        return out | dict(
            model_type="deepseek_v3",
            n_routed_experts=cfg.n_experts,
            n_group=cfg.n_groups,
            topk_group=cfg.topk_groups,
            routed_scaling_factor=cfg.routed_scale,
            n_shared_experts=cfg.n_shared_experts,
            first_k_dense_replace=cfg.n_dense_layers,
            q_lora_rank=cfg.q_lora_rank or None,
            kv_lora_rank=cfg.kv_lora_rank,
            qk_nope_head_dim=cfg.qk_nope_head_dim,
            qk_rope_head_dim=cfg.qk_rope_head_dim,
            v_head_dim=cfg.v_head_dim,
            rope_interleave=True,
        )
    return out | dict(
        model_type="qwen3_moe",
        num_key_value_heads=cfg.n_kv_heads,
        head_dim=cfg.head_dim,
        num_experts=cfg.n_experts,
    )


def test_split_and_stack_experts_are_inverse():
    torch.manual_seed(0)
    stacked = {
        "model.layers.0.mlp.experts.gate_up_proj": torch.randn(3, 8, 5),
        "model.layers.0.mlp.experts.down_proj": torch.randn(3, 5, 4),
        "model.norm.weight": torch.randn(5),
    }
    split = split_stacked_experts(stacked)
    assert torch.equal(
        split["model.layers.0.mlp.experts.2.up_proj.weight"], stacked[next(iter(stacked))][2, 4:]
    )
    assert len(split) == 3 * 3 + 1
    back = stack_experts(split)
    assert back.keys() == stacked.keys() and all(torch.equal(back[k], stacked[k]) for k in stacked)


@pytest.mark.parametrize("cfg, family", [(MOE, MoEModel), (MLA, MLAModel)], ids=["qwen3-moe", "deepseek-v3"])
def test_round_trip_through_the_published_layout_is_exact(cfg, family):
    model = randomized(family(cfg))
    hf = moe_to_hf(model)
    assert "model.layers.1.mlp.experts.7.down_proj.weight" in hf
    back = load_llama_state_dict(family(cfg), moe_from_hf(hf, cfg))
    ids = torch.randint(0, cfg.vocab_size, (1, 9))
    assert torch.equal(back(ids), model(ids))


def test_interleaved_rope_rows_are_reordered_and_back():
    model = randomized(MLAModel(MLA))
    ours = model.state_dict()["blocks.0.att.W_kv_down.weight"]
    interleaved = moe_to_hf(model)["model.layers.0.self_attn.kv_a_proj_with_mqa.weight"]
    plain = moe_to_hf(model, rope_interleave=False)["model.layers.0.self_attn.kv_a_proj_with_mqa.weight"]
    rank = MLA.kv_lora_rank
    assert torch.equal(interleaved[:rank], ours[:rank])  # the latent rows do not move
    assert torch.equal(plain, ours)
    assert torch.equal(
        interleaved[rank:][0::2], ours[rank:][: MLA.qk_rope_head_dim // 2]
    )  # first halves: even rows


def test_a_sharded_folder_and_a_single_file_load(tmp_path):
    for cfg, family, sharded in [(MOE, MoEModel, False), (MLA, MLAModel, True)]:
        folder = tmp_path / type(cfg).__name__
        folder.mkdir()
        model = randomized(family(cfg))
        hf = moe_to_hf(model)
        (folder / "config.json").write_text(json.dumps(hf_config(cfg)))
        if sharded:
            names = sorted(hf)
            shards = {"a.safetensors": names[: len(names) // 2], "b.safetensors": names[len(names) // 2 :]}
            for file, keys in shards.items():
                save_file({k: hf[k] for k in keys}, folder / file)
            weight_map = {k: file for file, keys in shards.items() for k in keys}
            (folder / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
        else:
            save_file(hf, folder / "model.safetensors")
        loaded = load_hf_moe(folder)
        assert loaded.cfg == cfg and type(loaded) is family
        ids = torch.randint(0, cfg.vocab_size, (1, 9))
        assert torch.equal(loaded(ids), model(ids))


def test_missing_extra_and_unsupported_tensors():
    hf = moe_to_hf(randomized(MLAModel(MLA)))
    with pytest.raises(KeyError, match="model.norm.weight"):
        moe_from_hf({k: v for k, v in hf.items() if k != "model.norm.weight"}, MLA)
    with pytest.raises(KeyError, match="no place for.*model.layers.0.mlp.surprise"):
        moe_from_hf(hf | {"model.layers.0.mlp.surprise": torch.zeros(1)}, MLA)
    with pytest.raises(ValueError, match="FP8"):
        moe_from_hf(hf | {"model.layers.0.self_attn.o_proj.weight_scale_inv": torch.zeros(1)}, MLA)
    mtp = f"model.layers.{MLA.n_layers}.eh_proj.weight"  # DeepSeek's multi-token-prediction layer: skipped
    assert moe_from_hf(hf | {mtp: torch.zeros(1)}, MLA).keys() == hf_moe_key_map(MLA).keys()


@pytest.mark.parametrize(
    "changes, error, match",
    [
        (dict(model_type="llama"), ValueError, "reads 'qwen3_moe' and 'deepseek_v3'"),
        (
            dict(rope_scaling={"type": "yarn", "factor": 40}),
            ValueError,
            "RoPE scaling 'yarn' is not implemented",
        ),
        (dict(mlp_only_layers=[0]), ValueError, "mlp_only_layers"),
        (dict(use_sliding_window=True), ValueError, "use_sliding_window"),
        (dict(attention_bias=True), ValueError, "attention_bias"),
        (
            dict(num_experts_per_tok=9),
            ValueError,
            "top_k=9 experts per token, but there are only n_experts=8",
        ),
    ],
)
def test_config_conversion_rejects_what_it_cannot_build(changes, error, match):
    with pytest.raises(error, match=match):
        moe_config_from_hf(hf_config(MOE) | changes)


def test_config_conversion_round_trips_our_presets():
    assert moe_config_from_hf(hf_config(MOE)) == MOE
    assert moe_config_from_hf(hf_config(MLA)) == MLA


def test_a_folder_without_weights_or_config(tmp_path):
    with pytest.raises(FileNotFoundError, match="config.json"):
        load_hf_moe(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps(hf_config(MOE)))
    with pytest.raises(FileNotFoundError, match="model.safetensors"):
        load_hf_moe(tmp_path)
