"""Our MoEModel equals HuggingFace transformers' ``Qwen3MoeForCausalLM`` (random weights, never downloaded).

transformers builds a small random model (float32, eager attention); our config comes from its
``config.json`` dict (``moe_config_from_hf``) and our weights from its state dict through the weight
map (``moe_from_hf``, which also splits transformers' stacked expert tensors). Then:

1. logits on random tokens agree within 1e-4 (the max difference is printed: ``pytest -s``);
2. greedy generation with *our* KV cache gives transformers' greedy tokens (``generate``, with its cache);
3. token-by-token logits through our cache equal transformers' full-pass logits;
4. the map back (``moe_to_hf`` -> ``stack_experts``) loads into a fresh transformers model with the same logits;
5. a folder written by ``save_pretrained`` (the published per-expert layout) loads with ``load_hf_moe``.

The configs exercise a head width decoupled from ``emb_dim``, QK-norm, ``norm_topk_prob`` on and off,
tied and untied heads. Router weights are scaled up so that routing decisions are not near-ties.
"""

from __future__ import annotations

import pytest
import torch

from llmscratch.model.moe import MoEConfig, MoEModel
from llmscratch.testing import assert_close
from llmscratch.weights.llama import load_llama_state_dict
from llmscratch.weights.moe import load_hf_moe, moe_config_from_hf, moe_from_hf, moe_to_hf, stack_experts
from tests.model_helpers import (
    ATOL,
    assert_cached_steps_equal_full_pass,
    assert_greedy_tokens_equal,
    assert_loads_back,
)

transformers = pytest.importorskip("transformers")
pytestmark = pytest.mark.needs_transformers


CONFIGS = {
    "head-dim-24-norm-topk": dict(
        hidden_size=64,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=24,  # 4 x 24 = 96 != 64: the head width is decoupled from the model width
        num_hidden_layers=3,
        num_experts=8,
        num_experts_per_tok=2,
        moe_intermediate_size=32,
        norm_topk_prob=True,
        tie_word_embeddings=False,
        rope_parameters={"rope_type": "default", "rope_theta": 1_000_000.0},
    ),
    "raw-topk-tied": dict(
        hidden_size=48,
        num_attention_heads=4,
        num_key_value_heads=4,
        head_dim=12,
        num_hidden_layers=2,
        num_experts=6,
        num_experts_per_tok=3,
        moe_intermediate_size=24,
        norm_topk_prob=False,
        tie_word_embeddings=True,
        rms_norm_eps=1e-5,
    ),
}


def hf_qwen3_moe(name: str, seed: int):
    torch.manual_seed(seed)
    hf_cfg = transformers.Qwen3MoeConfig(
        vocab_size=151,
        max_position_embeddings=48,
        intermediate_size=96,
        initializer_range=0.1,  # logits of order 1 (at 0.02 they are ~0.04 and 1e-4 would be a loose bound)
        attn_implementation="eager",
        eos_token_id=None,
        **CONFIGS[name],
    )
    model = transformers.Qwen3MoeForCausalLM(hf_cfg).eval()
    with torch.no_grad():
        for param_name, p in model.named_parameters():
            if p.dim() == 1:  # norms start at 1: randomize them so a wrong mapping shows
                p.uniform_(0.5, 1.5)
            elif param_name.endswith("mlp.gate.weight"):  # router: spread the scores, no near-ties
                p.normal_(0, 0.3)
    return model


def ours_from(hf) -> MoEModel:
    cfg = moe_config_from_hf(hf.config.to_dict())
    assert isinstance(cfg, MoEConfig) and cfg.head_dim == hf.config.head_dim
    return load_llama_state_dict(MoEModel(cfg).eval(), moe_from_hf(hf.state_dict(), cfg))


@pytest.mark.parametrize("name", CONFIGS)
def test_logits_equal_transformers(name):
    hf = hf_qwen3_moe(name, seed=1)
    ours = ours_from(hf)
    ids = torch.randint(0, 151, (2, 24), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        diff = assert_close(ours(ids), hf(ids).logits, atol=ATOL, what=f"Qwen3-MoE {name} logits")
    print(f"Qwen3-MoE {name}: max abs logit difference {diff:.2e}")
    load = ours.expert_load()
    assert load.counts.sum(dim=1).tolist() == [ids.numel() * ours.cfg.top_k] * ours.cfg.n_layers


@pytest.mark.parametrize("name", CONFIGS)
def test_greedy_tokens_with_our_kv_cache_equal_transformers(name):
    hf = hf_qwen3_moe(name, seed=5)  # a seed whose greedy text does not just repeat one token
    ours = ours_from(hf)
    assert_greedy_tokens_equal(ours, hf)


@pytest.mark.parametrize("name", CONFIGS)
def test_logits_token_by_token_with_our_kv_cache_equal_transformers(name):
    """Our cache, prefilled then fed one token at a time, gives transformers' full-pass logits."""
    hf = hf_qwen3_moe(name, seed=6)
    ours = ours_from(hf)
    assert_cached_steps_equal_full_pass(ours, hf)


@pytest.mark.parametrize("name", CONFIGS)
def test_our_weights_map_back_into_transformers(name):
    hf = hf_qwen3_moe(name, seed=3)
    ours = ours_from(hf)
    fresh = hf_qwen3_moe(name, seed=4)
    assert_loads_back(fresh, stack_experts(moe_to_hf(ours)), hf)


def test_save_pretrained_folder_loads_with_load_hf_moe(tmp_path):
    hf = hf_qwen3_moe("head-dim-24-norm-topk", seed=5)
    hf.save_pretrained(tmp_path)  # the published layout: one tensor per expert
    ours = load_hf_moe(tmp_path)
    ids = torch.randint(0, 151, (1, 16))
    with torch.no_grad():
        assert_close(ours(ids), hf(ids).logits, atol=ATOL, what="load_hf_moe")
