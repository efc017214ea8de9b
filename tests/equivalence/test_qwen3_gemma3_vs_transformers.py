"""Our Qwen3Model and Gemma3Model equal transformers' ``Qwen3ForCausalLM`` and ``Gemma3ForCausalLM``.

transformers builds each reference from a small config with its own random weights (never
downloaded; float32; eager attention), with every norm weight randomized too so a misplaced norm
shows. Our config is read from the reference's ``config.to_dict()`` by the same reader that loads
the published ``config.json`` files, and the weights go through the same key map
(``weights.qwen3`` / ``weights.gemma3``), in both directions. Then:

1. the logits on random tokens agree within 1e-4 (the max difference is printed: run with ``-s``);
2. greedy generation with our KV cache (``generate``) gives transformers' greedy tokens; for Gemma
   the prompt is longer than the window, so the local layers' cache has dropped keys by then.
"""

from __future__ import annotations

import pytest
import torch

from llmscratch.model.gemma3 import Gemma3Config, Gemma3Model
from llmscratch.model.generate import generate
from llmscratch.model.qwen3 import Qwen3Config, Qwen3Model
from llmscratch.testing import assert_close
from llmscratch.weights.gemma3 import gemma3_config_from_hf, gemma3_from_hf, gemma3_to_hf
from llmscratch.weights.llama import load_llama_state_dict
from llmscratch.weights.qwen3 import qwen3_config_from_hf, qwen3_from_hf, qwen3_to_hf
from tests.model_helpers import ATOL, hf_sizes, randomize_vectors

transformers = pytest.importorskip("transformers")
pytestmark = pytest.mark.needs_transformers


QWEN3 = {
    # head_dim 24 while emb_dim / n_heads = 16: the attention is wider than the residual stream
    "gqa-tied": Qwen3Config(
        vocab_size=151,
        context_length=48,
        emb_dim=64,
        n_heads=4,
        n_kv_heads=2,
        n_layers=2,
        hidden_dim=96,
        head_dim=24,
    ),
    "mqa-untied": Qwen3Config(
        vocab_size=151,
        context_length=48,
        emb_dim=48,
        n_heads=4,
        n_kv_heads=1,
        n_layers=2,
        hidden_dim=80,
        head_dim=8,
        rope_base=500.0,
        tie_embeddings=False,
    ),
}
GEMMA3 = {
    # 7 layers: local x5, global, local; a window of 6 tokens; scores scaled by 1/sqrt(20), not 1/sqrt(16)
    "5-local-1-global": Gemma3Config(
        vocab_size=151,
        context_length=64,
        emb_dim=48,
        n_heads=3,
        n_kv_heads=1,
        n_layers=7,
        hidden_dim=80,
        head_dim=16,
        window=6,
        query_pre_attn_scalar=20,
    ),
    "alternating-untied": Gemma3Config(
        vocab_size=151,
        context_length=64,
        emb_dim=32,
        n_heads=2,
        n_kv_heads=2,
        n_layers=4,
        hidden_dim=64,
        head_dim=16,
        window=5,
        global_every=2,
        rope_base=50_000.0,
        local_rope_base=300.0,
        query_pre_attn_scalar=16,
        tie_embeddings=False,
    ),
}


def hf_qwen3(cfg: Qwen3Config, seed: int):
    torch.manual_seed(seed)
    hf_cfg = transformers.Qwen3Config(
        **hf_sizes(cfg),
        head_dim=cfg.head_dim,
        rope_parameters={"rope_type": "default", "rope_theta": cfg.rope_base},
        rms_norm_eps=cfg.norm_eps,
        tie_word_embeddings=cfg.tie_embeddings,
        attn_implementation="eager",
    )
    model = transformers.Qwen3ForCausalLM(hf_cfg).eval()
    randomize_vectors(model)  # norm weights start at 1 (Qwen3) or 0 (Gemma): each one is tested
    return model


def hf_gemma3(cfg: Gemma3Config, seed: int):
    torch.manual_seed(seed)
    hf_cfg = transformers.Gemma3TextConfig(
        **hf_sizes(cfg),
        head_dim=cfg.head_dim,
        sliding_window=cfg.window,
        layer_types=[
            "sliding_attention" if cfg.is_local(i) else "full_attention" for i in range(cfg.n_layers)
        ],
        rope_parameters={
            "full_attention": {"rope_type": "default", "rope_theta": cfg.rope_base},
            "sliding_attention": {"rope_type": "default", "rope_theta": cfg.local_rope_base},
        },
        query_pre_attn_scalar=cfg.query_pre_attn_scalar,
        rms_norm_eps=cfg.norm_eps,
        tie_word_embeddings=cfg.tie_embeddings,
        attn_implementation="eager",
    )
    assert hf_cfg.final_logit_softcapping is None and hf_cfg.attn_logit_softcapping is None
    model = transformers.Gemma3ForCausalLM(hf_cfg).eval()
    randomize_vectors(model)  # norm weights start at 1 (Qwen3) or 0 (Gemma): each one is tested
    return model


FAMILIES = {
    "qwen3": (QWEN3, hf_qwen3, qwen3_config_from_hf, qwen3_from_hf, qwen3_to_hf, Qwen3Model),
    "gemma3": (GEMMA3, hf_gemma3, gemma3_config_from_hf, gemma3_from_hf, gemma3_to_hf, Gemma3Model),
}
CASES = [(family, name) for family, (configs, *_) in FAMILIES.items() for name in configs]


def ours_and_theirs(family: str, name: str):
    configs, build_hf, config_from_hf, from_hf, _, model_class = FAMILIES[family]
    cfg = configs[name]
    hf = build_hf(cfg, seed=1)
    read = config_from_hf(hf.config.to_dict())
    assert read == cfg, f"the config reader gave {read}, expected {cfg}"
    ours = load_llama_state_dict(model_class(cfg).eval(), from_hf(hf.state_dict(), cfg))
    return cfg, ours, hf


@pytest.mark.parametrize("family, name", CASES)
def test_random_init_maps_both_ways_with_equal_logits(family, name):
    cfg, ours, hf = ours_and_theirs(family, name)
    to_hf = FAMILIES[family][4]
    torch.manual_seed(0)
    ids = torch.randint(0, cfg.vocab_size, (2, 40))  # 40 tokens: several windows for Gemma
    with torch.no_grad():
        expected = hf(ids).logits
        diff = assert_close(ours(ids), expected, atol=ATOL, what=f"{family} {name}: HF -> ours")
        print(f"{family} {name}: max abs logit difference ours vs transformers {diff:.2e}")
        back = FAMILIES[family][1](cfg, seed=2)
        back.load_state_dict(to_hf(ours), strict=not cfg.tie_embeddings)  # tied: HF lists lm_head too
        assert_close(back(ids).logits, expected, atol=ATOL, what=f"{family} {name}: ours -> HF")


@pytest.mark.parametrize("family, name", CASES)
def test_greedy_tokens_with_our_kv_cache_equal_transformers(family, name):
    cfg, ours, hf = ours_and_theirs(family, name)
    torch.manual_seed(3)
    prompt = torch.randint(0, cfg.vocab_size, (1, 14))  # longer than either Gemma window
    n_new = 16
    mine = generate(ours, prompt, n_new)  # our KV cache (for Gemma: sliding for the local layers)
    with torch.no_grad():
        theirs = hf.generate(
            prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=n_new, do_sample=False, top_k=None
        )
        # How close the race between the best two tokens was at each step, for the failure message.
        logits = hf(theirs).logits[0, prompt.shape[1] - 1 : -1]  # (n_new, V)
        top2 = logits.topk(2, dim=-1).values
    assert mine.tolist() == theirs.tolist(), (
        f"{family} {name}: ours {mine[0, 14:].tolist()} vs transformers {theirs[0, 14:].tolist()}; "
        f"smallest top-2 logit margin {float((top2[:, 0] - top2[:, 1]).min()):.2e}"
    )
    if family == "gemma3":
        cache = ours.new_kv_cache()
        ours(mine[:, :-1], cache)
        held = {layer.held for i, layer in enumerate(cache.layers) if cfg.is_local(i)}
        assert held == {cfg.window - 1} and len(cache) == mine.shape[1] - 1
