"""llama: LlamaConfig, RMSNorm, RoPE, SwiGLU, grouped-query attention, LlamaModel (cache, padding,
generate), the HuggingFace weight mapping through a safetensors file, and bits per byte."""

from __future__ import annotations

import json
import math

import pytest
import torch
import torch.nn.functional as F

from llmscratch.model.generate import generate
from llmscratch.model.llama import (
    LLAMA_TINY,
    GroupedQueryAttention,
    LlamaConfig,
    LlamaModel,
    RMSNorm,
    apply_rope,
    rope_angles,
)
from llmscratch.testing import assert_close
from llmscratch.training.bits_per_byte import bits_per_byte, total_nll
from llmscratch.weights.llama import llama_from_hf, llama_to_hf, load_hf_llama, load_llama_state_dict

CFG = LLAMA_TINY.with_(
    vocab_size=97, context_length=24, emb_dim=48, n_heads=6, n_kv_heads=2, hidden_dim=96, n_layers=2
)


def model_for(cfg: LlamaConfig = CFG, seed: int = 0) -> LlamaModel:
    torch.manual_seed(seed)
    model = LlamaModel(cfg).eval()
    with torch.no_grad():  # norms start at 1; randomize them so a wrong mapping would show
        for _name, p in model.named_parameters():
            if p.dim() == 1:
                p.uniform_(0.5, 1.5)
    return model


@pytest.mark.parametrize(
    "changes, match",
    [
        (dict(n_heads=5), "not divisible by n_heads"),
        (dict(n_kv_heads=4), "not a multiple of n_kv_heads"),
        (dict(emb_dim=36, n_heads=12, n_kv_heads=4), "must be even"),
        (dict(hidden_dim=0), "hidden_dim must be a positive integer"),
        (dict(drop_rate=1.0), "drop_rate"),
    ],
)
def test_config_rejects_bad_values(changes, match):
    with pytest.raises(ValueError, match=match):
        CFG.with_(**changes)


def test_model_needs_a_llama_config():
    with pytest.raises(TypeError, match="LlamaConfig"):
        LlamaModel({"emb_dim": 8})


def test_rmsnorm_equals_torch():
    torch.manual_seed(0)
    ours, ref = RMSNorm(16, eps=1e-5), torch.nn.RMSNorm(16, eps=1e-5)
    with torch.no_grad():
        ours.weight.uniform_(0.5, 2.0)
        ref.weight.copy_(ours.weight)
    x = torch.randn(3, 5, 16) * 4
    assert_close(ours(x), ref(x), atol=1e-6)


def test_rope_scores_depend_only_on_the_distance():
    torch.manual_seed(0)
    q, k = torch.randn(1, 1, 1, 8), torch.randn(1, 1, 1, 8)

    def score(m, n):
        cm, sm = rope_angles(torch.tensor([m]), 8, 10_000.0)
        cn, sn = rope_angles(torch.tensor([n]), 8, 10_000.0)
        return (apply_rope(q, cm, sm) * apply_rope(k, cn, sn)).sum().item()

    assert score(7, 3) == pytest.approx(score(104, 100), abs=1e-4)
    assert score(7, 3) != pytest.approx(score(7, 2), abs=1e-3)
    cos, sin = rope_angles(torch.tensor([5]), 8, 10_000.0)  # a rotation keeps every pair's length
    assert_close(apply_rope(q, cos, sin).norm(), q.norm(), atol=1e-5)


def test_gqa_equals_attention_with_repeated_key_value_heads():
    torch.manual_seed(0)
    att = GroupedQueryAttention(CFG).eval()
    x = torch.randn(2, 7, CFG.emb_dim)
    cos, sin = rope_angles(torch.arange(7).unsqueeze(0), CFG.head_dim, CFG.rope_base)
    b, t, h, d, rep = 2, 7, CFG.n_heads, CFG.head_dim, CFG.n_heads // CFG.n_kv_heads
    q = apply_rope(att.W_query(x).view(b, t, h, d).transpose(1, 2), cos, sin)
    k = apply_rope(att.W_key(x).view(b, t, -1, d).transpose(1, 2), cos, sin).repeat_interleave(rep, dim=1)
    v = att.W_value(x).view(b, t, -1, d).transpose(1, 2).repeat_interleave(rep, dim=1)
    scores = (q @ k.transpose(-2, -1)) / math.sqrt(d)  # (B, H, T, T)
    scores = scores.masked_fill(torch.triu(torch.ones(t, t, dtype=torch.bool), 1), float("-inf"))
    expected = att.out_proj((scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, h * d))
    assert_close(att(x, cos, sin), expected, atol=1e-5)


def test_kv_cache_gives_the_cache_free_logits_with_gqa():
    model = model_for()
    ids = torch.randint(0, CFG.vocab_size, (2, 11))
    full = model(ids)
    cache = model.new_kv_cache()
    parts = [model(ids[:, :5], cache), model(ids[:, 5:6], cache), model(ids[:, 6:], cache)]
    assert_close(torch.cat(parts, dim=1), full, atol=1e-5)
    assert cache.layers[0].keys.shape[1] == CFG.n_kv_heads  # the cache holds the shared heads only


def test_left_padding_gives_the_unpadded_logits_with_and_without_cache():
    model = model_for()
    short, long = torch.randint(0, CFG.vocab_size, (1, 4)), torch.randint(0, CFG.vocab_size, (1, 7))
    batch = torch.cat([torch.cat([torch.zeros(1, 3, dtype=torch.long), short], 1), long])  # (2, 7)
    mask = torch.tensor([[0, 0, 0, 1, 1, 1, 1], [1] * 7])
    logits = model(batch, attention_mask=mask)
    assert_close(logits[0, 3:], model(short)[0], atol=1e-5)
    assert_close(logits[1], model(long)[0], atol=1e-5)
    # with a cache: prompt, then one more token per row; the mask may cover new tokens only or all
    nxt = torch.randint(0, CFG.vocab_size, (2, 1))
    for step_mask in (None, torch.ones(2, 1), torch.cat([mask, torch.ones(2, 1, dtype=torch.long)], 1)):
        cache = model.new_kv_cache()
        model(batch, cache, attention_mask=mask)
        step = model(nxt, cache, attention_mask=step_mask)
        assert_close(step[0], model(torch.cat([short, nxt[:1]], 1))[0, -1:], atol=1e-5)
        assert_close(step[1], model(torch.cat([long, nxt[1:]], 1))[0, -1:], atol=1e-5)


def test_bad_attention_mask_and_overlong_input():
    model = model_for()
    with pytest.raises(ValueError, match="attention_mask must have shape"):
        model(torch.zeros(2, 5, dtype=torch.long), attention_mask=torch.ones(2, 4))
    with pytest.raises(ValueError, match="exceed context_length"):
        model(torch.zeros(1, CFG.context_length + 1, dtype=torch.long))
    cache = model.new_kv_cache()
    with pytest.raises(ValueError, match="kv_cache has 1 layers"):
        model(torch.zeros(1, 2, dtype=torch.long), type(cache)(1, 8))


def test_generate_works_with_the_llama_model_cache_or_not():
    model = model_for()
    prompt = torch.randint(0, CFG.vocab_size, (2, 5))
    with_cache = generate(model, prompt, 30)  # 35 tokens > context_length 24: the window slides
    assert with_cache.shape == (2, 35)
    assert torch.equal(with_cache, generate(model, prompt, 30, use_cache=False))


def test_tied_and_untied_heads():
    tied, untied = LlamaModel(CFG), LlamaModel(CFG.with_(tie_embeddings=False))
    assert tied.out_head.weight is tied.tok_emb.weight
    assert untied.out_head.weight is not untied.tok_emb.weight
    assert all(not n.endswith("bias") for n, _ in tied.named_parameters())  # Llama has no biases


@pytest.mark.parametrize(
    "cfg", [CFG, CFG.with_(tie_embeddings=False, qkv_bias=True)], ids=["tied", "untied-bias"]
)
def test_hf_layout_round_trip_through_a_safetensors_file(tmp_path, cfg):
    from safetensors.torch import save_file

    model = model_for(cfg)
    hf = llama_to_hf(model)
    assert "model.layers.0.self_attn.q_proj.weight" in hf and ("lm_head.weight" in hf) != cfg.tie_embeddings
    save_file(hf, tmp_path / "model.safetensors")
    (tmp_path / "config.json").write_text(
        json.dumps(
            {
                "model_type": "llama",
                "vocab_size": cfg.vocab_size,
                "max_position_embeddings": cfg.context_length,
                "hidden_size": cfg.emb_dim,
                "num_attention_heads": cfg.n_heads,
                "num_hidden_layers": cfg.n_layers,
                "num_key_value_heads": cfg.n_kv_heads,
                "intermediate_size": cfg.hidden_dim,
                "rope_theta": cfg.rope_base,
                "rms_norm_eps": cfg.norm_eps,
                "tie_word_embeddings": cfg.tie_embeddings,
                "attention_bias": cfg.qkv_bias,
            }
        )
    )
    loaded = load_hf_llama(tmp_path)
    assert loaded.cfg == cfg
    ids = torch.randint(0, cfg.vocab_size, (1, 9))
    assert torch.equal(loaded(ids), model(ids))
    assert (loaded.out_head.weight is loaded.tok_emb.weight) == cfg.tie_embeddings


def test_weight_loading_names_missing_and_misshapen_tensors(tmp_path):
    model = model_for()
    state = llama_from_hf(llama_to_hf(model), CFG)
    with pytest.raises(ValueError, match="missing.*final_norm.weight"):
        load_llama_state_dict(LlamaModel(CFG), {k: v for k, v in state.items() if k != "final_norm.weight"})
    with pytest.raises(ValueError, match="tok_emb.weight: the weights have shape"):
        load_llama_state_dict(LlamaModel(CFG), dict(state, **{"tok_emb.weight": torch.zeros(3, 3)}))
    with pytest.raises(KeyError, match="model.norm.weight"):
        llama_from_hf({k: v for k, v in llama_to_hf(model).items() if k != "model.norm.weight"}, CFG)
    with pytest.raises(FileNotFoundError, match="config.json"):
        load_hf_llama(tmp_path)


def test_bits_per_byte_of_a_model_that_knows_nothing_is_log2_vocab():
    model = model_for()
    with torch.no_grad():
        model.out_head.weight.zero_()  # tied: all logits 0, every token has probability 1/V
    ids = torch.randint(0, CFG.vocab_size, (50,))
    nll, count = total_nll(model, ids, window=8)  # 7 windows, the last one partial
    assert count == 49
    assert nll == pytest.approx(49 * math.log(CFG.vocab_size), rel=1e-5)
    assert bits_per_byte(model, ids, 98) == pytest.approx(49 * math.log2(CFG.vocab_size) / 98, rel=1e-5)


def test_total_nll_windows_agree_with_one_pass():
    model = model_for()
    ids = torch.randint(0, CFG.vocab_size, (20,))
    one_pass = F.cross_entropy(model(ids[:-1].unsqueeze(0))[0], ids[1:], reduction="sum").item()
    assert total_nll(model, ids)[0] == pytest.approx(one_pass, rel=1e-5)
    with pytest.raises(ValueError, match="at least 2 tokens"):
        total_nll(model, ids[:1])
    with pytest.raises(ValueError, match="n_bytes"):
        bits_per_byte(model, ids, 0)
