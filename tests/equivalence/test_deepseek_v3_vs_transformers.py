"""Our MLAModel equals HuggingFace transformers' ``DeepseekV3ForCausalLM`` (random weights, never downloaded).

transformers builds a tiny random DeepSeek-V3 (float32, eager attention): multi-head latent
attention, dense blocks then MoE blocks (``first_k_dense_replace``), the sigmoid group-limited router
with its ``e_score_correction_bias`` (randomized here, so it changes which experts win), shared
experts and ``routed_scaling_factor``. Our config comes from its config dict, our weights through the
map (``moe_from_hf``, which also reorders DeepSeek's interleaved RoPE rows). Then:

1. logits on random tokens agree within 1e-4 (the max difference is printed: ``pytest -s``);
2. greedy generation with *our* latent KV cache gives transformers' greedy tokens;
3. token-by-token logits through our cache equal transformers' full-pass logits;
4. the map back (``moe_to_hf`` -> ``stack_experts``) loads into a fresh transformers model with the same logits.

The configs cover a low-rank and a full-rank query path, interleaved and half-split RoPE, blocks
that are mixed dense/MoE and all MoE, ``norm_topk_prob`` on and off, ``v_head_dim != qk_nope_head_dim``,
and an ``rms_norm_eps`` (1e-2) far from the latents' fixed 1e-6.
"""

from __future__ import annotations

import pytest
import torch

from llmscratch.model.mla import MLAConfig, MLAModel
from llmscratch.testing import assert_close
from llmscratch.weights.llama import load_llama_state_dict
from llmscratch.weights.moe import moe_config_from_hf, moe_from_hf, moe_to_hf, stack_experts
from tests.model_helpers import (
    ATOL,
    assert_cached_steps_equal_full_pass,
    assert_greedy_tokens_equal,
    assert_loads_back,
)

transformers = pytest.importorskip("transformers")
pytestmark = pytest.mark.needs_transformers


CONFIGS = {
    "q-lora-interleaved-first-dense": dict(
        num_hidden_layers=3,
        first_k_dense_replace=1,
        q_lora_rank=24,
        rope_interleave=True,
        n_routed_experts=8,
        n_group=4,
        topk_group=2,
        num_experts_per_tok=3,
        n_shared_experts=1,
        norm_topk_prob=True,
        routed_scaling_factor=2.5,
        tie_word_embeddings=False,
    ),
    "full-q-halves-all-moe": dict(
        num_hidden_layers=2,
        first_k_dense_replace=0,
        q_lora_rank=None,
        rope_interleave=False,
        n_routed_experts=6,
        n_group=2,
        topk_group=1,
        num_experts_per_tok=2,
        n_shared_experts=2,
        norm_topk_prob=False,
        routed_scaling_factor=1.5,
        tie_word_embeddings=True,
    ),
}


def hf_deepseek_v3(name: str, seed: int):
    torch.manual_seed(seed)
    hf_cfg = transformers.DeepseekV3Config(
        vocab_size=151,
        max_position_embeddings=48,
        hidden_size=64,
        intermediate_size=96,
        moe_intermediate_size=32,
        num_attention_heads=4,
        num_key_value_heads=4,
        kv_lora_rank=16,
        qk_nope_head_dim=16,
        qk_rope_head_dim=8,
        v_head_dim=12,
        rms_norm_eps=1e-2,  # far from the latents' fixed 1e-6, so using the wrong one shows
        rope_parameters={"rope_type": "default", "rope_theta": 10_000.0},
        initializer_range=0.1,  # logits of order 1 (at 0.02 they are ~0.04 and 1e-4 would be a loose bound)
        attn_implementation="eager",
        bos_token_id=None,
        eos_token_id=None,
        **CONFIGS[name],
    )
    model = transformers.DeepseekV3ForCausalLM(hf_cfg).eval()
    with torch.no_grad():
        for param_name, p in model.named_parameters():
            if p.dim() == 1:  # norms start at 1: randomize them so a wrong mapping shows
                p.uniform_(0.5, 1.5)
            elif param_name.endswith("mlp.gate.weight"):  # router: spread the scores, no near-ties
                p.normal_(0, 0.3)
        for buffer_name, b in model.named_buffers():
            if buffer_name.endswith("e_score_correction_bias"):  # zero at init; make it steer the choice
                b.normal_(0, 0.3)
    return model


def ours_from(hf) -> MLAModel:
    hf_config = hf.config.to_dict()
    cfg = moe_config_from_hf(hf_config)
    assert isinstance(cfg, MLAConfig)
    state = moe_from_hf(hf.state_dict(), cfg, rope_interleave=hf_config["rope_interleave"])
    return load_llama_state_dict(MLAModel(cfg).eval(), state)


@pytest.mark.parametrize("name", CONFIGS)
def test_logits_equal_transformers(name):
    hf = hf_deepseek_v3(name, seed=1)
    ours = ours_from(hf)
    ids = torch.randint(0, 151, (2, 24), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        diff = assert_close(ours(ids), hf(ids).logits, atol=ATOL, what=f"DeepSeek-V3 {name} logits")
    print(f"DeepSeek-V3 {name}: max abs logit difference {diff:.2e}")
    load = ours.expert_load()
    assert load.layers == list(range(ours.cfg.n_dense_layers, ours.cfg.n_layers))


@pytest.mark.parametrize("name", CONFIGS)
def test_greedy_tokens_with_our_latent_cache_equal_transformers(name):
    hf = hf_deepseek_v3(name, seed=2)
    ours = ours_from(hf)
    assert_greedy_tokens_equal(ours, hf)  # our cache holds latents and RoPE keys only


@pytest.mark.parametrize("name", CONFIGS)
def test_logits_token_by_token_with_our_latent_cache_equal_transformers(name):
    """Our cache, prefilled then fed one token at a time, gives transformers' full-pass logits."""
    hf = hf_deepseek_v3(name, seed=6)
    ours = ours_from(hf)
    assert_cached_steps_equal_full_pass(ours, hf)


@pytest.mark.parametrize("name", CONFIGS)
def test_our_weights_map_back_into_transformers(name):
    hf = hf_deepseek_v3(name, seed=3)
    ours = ours_from(hf)
    fresh = hf_deepseek_v3(name, seed=4)
    assert_loads_back(fresh, stack_experts(moe_to_hf(ours, rope_interleave=hf.config.rope_interleave)), hf)
