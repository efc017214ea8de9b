"""cache_calculator: its parameter counts equal the parameters our models hold (and transformers' Qwen3
and Gemma 3), its cache bytes equal what our models' caches allocate, published sizes come out right,
and bad input gets one clear error."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from llmscratch.model.cache_calculator import (
    ArchSpec,
    cache_curve,
    common_size_specs,
    format_size_table,
    kv_cache_bytes,
    kv_cache_bytes_per_token,
    parameter_counts,
    size_table,
    spec_from_config,
)
from llmscratch.model.config import GPT2_124M, TINY
from llmscratch.model.gemma3 import GEMMA3_TINY, Gemma3Model
from llmscratch.model.gpt import GPTModel, count_parameters
from llmscratch.model.llama import LLAMA_TINY, SMOLLM2_135M, LlamaModel
from llmscratch.model.mla import DEEPSEEK_V3, MLA_TINY, MLAModel
from llmscratch.model.moe import MOE_TINY, QWEN3_30B_A3B, MoEModel, count_active_parameters
from llmscratch.model.qwen3 import QWEN3_TINY, Qwen3Model

MOE_GROUPED = MOE_TINY.with_(
    n_layers=3, n_dense_layers=1, router="sigmoid_grouped", n_groups=4, topk_groups=2, n_shared_experts=2
)
OURS = {
    "gpt-tied": (TINY, GPTModel),
    "gpt-untied-no-qkv-bias": (TINY.with_(tie_embeddings=False, qkv_bias=False), GPTModel),
    "llama": (LLAMA_TINY, LlamaModel),
    "llama-untied-bias": (LLAMA_TINY.with_(tie_embeddings=False, qkv_bias=True), LlamaModel),
    "qwen3-head-24": (QWEN3_TINY, Qwen3Model),
    "qwen3-untied": (QWEN3_TINY.with_(tie_embeddings=False), Qwen3Model),
    "moe-qk-norm-head-20": (MOE_TINY.with_(attn_head_dim=20), MoEModel),
    "moe-grouped-shared-dense": (MOE_GROUPED, MoEModel),
    "mla-low-rank-q": (MLA_TINY, MLAModel),
    "mla-full-rank-q-untied": (
        MLA_TINY.with_(q_lora_rank=0, tie_embeddings=False, n_dense_layers=0),
        MLAModel,
    ),
}


@pytest.mark.parametrize("name", OURS)
def test_parameter_counts_equal_our_models(name):
    cfg, family = OURS[name]
    torch.manual_seed(0)
    model = family(cfg)
    counts = parameter_counts(spec_from_config(cfg))
    assert counts.total == count_parameters(model)
    if isinstance(model, MoEModel):
        assert counts.active == count_active_parameters(model).active < counts.total
    else:
        assert counts.active == counts.total


@pytest.mark.parametrize("name", OURS)
def test_cache_bytes_equal_what_our_models_allocate(name):
    cfg, family = OURS[name]
    torch.manual_seed(0)
    model = family(cfg.with_(drop_rate=0.0)).eval()
    cache = model.new_kv_cache()
    batch = 2
    with torch.no_grad():
        model(torch.randint(0, cfg.vocab_size, (batch, 5)), cache)
    allocated = sum(
        layer.keys.nbytes + layer.values.nbytes for layer in cache.layers
    )  # buffers hold capacity
    spec = spec_from_config(cfg)
    assert allocated == kv_cache_bytes(spec, cache.capacity, batch_size=batch, bytes_per_value=4)
    assert allocated == batch * cache.capacity * kv_cache_bytes_per_token(spec, bytes_per_value=4)


@pytest.mark.parametrize("cfg", [GEMMA3_TINY, GEMMA3_TINY.with_(global_every=2, tie_embeddings=False)])
def test_gemma3_spec_counts_its_parameters_and_its_sliding_cache(cfg):
    """spec_from_config reads Gemma 3's window, 4 norms per block and QK-norm. Past the window, a
    local layer's real cache holds window - 1 positions between steps (the next token brings its
    own key); the calculator counts the window a step attends to, one position more per local layer."""
    torch.manual_seed(0)
    model = Gemma3Model(cfg).eval()
    spec = spec_from_config(cfg)
    assert parameter_counts(spec).total == count_parameters(model)
    n_local = sum(cfg.is_local(i) for i in range(cfg.n_layers))
    per_layer_token = 2 * cfg.n_kv_heads * cfg.head_dim * 4  # float32 keys and values
    for n in (3, cfg.window - 1, cfg.window, 3 * cfg.window + 1):
        cache = model.new_kv_cache()
        with torch.no_grad():
            model(torch.randint(0, cfg.vocab_size, (1, n)), cache)
        held = sum(
            (layer.keys.nbytes + layer.values.nbytes)
            if cfg.is_local(i)
            else (layer.keys[:, :, : layer.length].nbytes + layer.values[:, :, : layer.length].nbytes)
            for i, layer in enumerate(cache.layers)
        )
        slack = n_local * per_layer_token if n >= cfg.window else 0
        assert held == kv_cache_bytes(spec, n, bytes_per_value=4) - slack, n


@pytest.mark.parametrize(
    "cfg, family", [(GPT2_124M, GPTModel), (SMOLLM2_135M, LlamaModel)], ids=["gpt2", "smollm2"]
)
def test_parameter_counts_at_full_size_on_the_meta_device(cfg, family):
    with torch.device("meta"):  # no memory: only shapes
        model = family(cfg)
    assert parameter_counts(spec_from_config(cfg)).total == count_parameters(model)


def test_published_sizes():
    """Published totals: GPT-2 small 124M; SmolLM2-135M; Qwen3-30B-A3B 30.5B with 3.3B active;
    DeepSeek-V3 671B with 37B active (its extra multi-token-prediction module is not counted).

    The active counts are published truncated (ours: 3.35B and 37.55B), hence ``//``.
    """
    assert round(parameter_counts(spec_from_config(GPT2_124M)).total / 1e6) == 124
    assert round(parameter_counts(spec_from_config(SMOLLM2_135M)).total / 1e6) == 135
    qwen = parameter_counts(spec_from_config(QWEN3_30B_A3B))
    assert (qwen.total // 10**8, qwen.active // 10**8) == (305, 33)
    deepseek = parameter_counts(spec_from_config(DEEPSEEK_V3))
    assert (deepseek.total // 10**9, deepseek.active // 10**9) == (671, 37)


def test_latent_cache_is_kv_lora_rank_plus_rope_dim_per_layer():
    spec = spec_from_config(DEEPSEEK_V3)
    assert kv_cache_bytes_per_token(spec, bytes_per_value=1) == (512 + 64) * 61


def test_sliding_window_layers_keep_only_the_window():
    spec = ArchSpec("win", 10, 8, 12, 2, 4, 1, 16, sliding_window=4, global_every=6)  # layers 5 and 11 global
    per_layer = 2 * 1 * 4 * 2  # keys + values, 1 kv head of 4 dims, bfloat16
    assert [spec.is_local(i) for i in range(12)].count(False) == 2
    assert kv_cache_bytes(spec, 3) == 12 * 3 * per_layer  # shorter than the window: every layer keeps all
    assert kv_cache_bytes(spec, 10) == (2 * 10 + 10 * 4) * per_layer
    curve = cache_curve(spec, [4, 5, 6])
    assert (
        curve[2] - curve[1] == curve[1] - curve[0] == 2 * per_layer
    )  # past the window only global layers grow


def test_common_size_table():
    specs = common_size_specs()
    assert list(specs) == [
        "GPT-2",
        "Llama / SmolLM2",
        "Qwen3",
        "Gemma 3",
        "MoE (Qwen3-MoE)",
        "MLA (DeepSeek-V3)",
    ]
    rows = {row.name: row for row in size_table(specs)}
    llama, gemma, moe, mla = (
        rows[n] for n in ("Llama / SmolLM2", "Gemma 3", "MoE (Qwen3-MoE)", "MLA (DeepSeek-V3)")
    )
    assert rows["GPT-2"].cache_bytes_per_token == 4 * llama.cache_bytes_per_token  # 16 vs 4 key/value heads
    assert mla.cache_bytes_per_token == (512 + 64) * 24 * 2 < llama.cache_bytes_per_token
    assert (
        gemma.cache_bytes[131_072] < llama.cache_bytes[131_072] / 5
    )  # 4 of 24 layers keep the whole context
    assert moe.active_params < moe.total_params / 5 and abs(moe.active_params - llama.active_params) < 1e7
    text = format_size_table(list(rows.values()))
    assert text.splitlines()[0].startswith("family") and len(text.splitlines()) == 7


def test_bad_input_gets_one_clear_error():
    spec = spec_from_config(LLAMA_TINY)
    with pytest.raises(ValueError, match="top_k must be between 1 and n_experts=4"):
        replace(spec, n_experts=4, top_k=5, moe_hidden_dim=8)
    with pytest.raises(ValueError, match="n_kv_heads must be positive"):
        replace(spec, n_kv_heads=0)
    with pytest.raises(ValueError, match="context_length must be >= 0"):
        kv_cache_bytes(spec, -1)
    with pytest.raises(TypeError, match="no ArchSpec for a dict"):
        spec_from_config({"emb_dim": 8})


@pytest.mark.needs_transformers
def test_qwen3_and_gemma3_counts_equal_transformers():
    transformers = pytest.importorskip("transformers")
    common = dict(
        vocab_size=101, hidden_size=32, intermediate_size=48, num_hidden_layers=7, num_attention_heads=4
    )
    qwen3 = transformers.Qwen3ForCausalLM(
        transformers.Qwen3Config(**common, num_key_value_heads=2, head_dim=12, tie_word_embeddings=True)
    )
    gemma3 = transformers.Gemma3ForCausalLM(
        transformers.Gemma3TextConfig(**common, num_key_value_heads=2, head_dim=12, sliding_window=4)
    )
    base = ArchSpec("x", 101, 32, 7, 4, 12, 2, 48, qk_norm=True)
    assert parameter_counts(base).total == sum(p.numel() for p in qwen3.parameters())
    assert parameter_counts(replace(base, norms_per_block=4)).total == sum(
        p.numel() for p in gemma3.parameters()
    )
