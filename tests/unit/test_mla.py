"""mla: MLAConfig checks, latent attention against the formula written out, and the latent KV cache:
what it stores (its bytes per token), and that it gives the cache-free logits (also with padding,
after keep_rows and in generation)."""

from __future__ import annotations

import math

import pytest
import torch

from llmscratch.model.generate import generate
from llmscratch.model.llama import rope_angles
from llmscratch.model.mla import MLA_TINY, LatentLayerCache, MLAConfig, MLAModel, MultiHeadLatentAttention
from llmscratch.model.moe import MOE_TINY
from llmscratch.testing import assert_close

CFG = MLA_TINY.with_(vocab_size=97, context_length=24, v_head_dim=12)
FULL_RANK_Q = CFG.with_(q_lora_rank=0)


def model_for(cfg: MLAConfig = CFG, seed: int = 0) -> MLAModel:
    torch.manual_seed(seed)
    model = MLAModel(cfg).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1:
                p.uniform_(0.5, 1.5)
            elif name.endswith("router.weight"):
                p.normal_(0, 0.5)
    return model


@pytest.mark.parametrize(
    "changes, match",
    [
        (dict(q_lora_rank=-1), "q_lora_rank must be 0"),
        (dict(qk_norm=True), "qk_norm does not apply to latent attention"),
        (dict(qkv_bias=True), "qkv_bias must be False"),
        (dict(kv_lora_rank=0), "kv_lora_rank must be a positive integer"),
        (dict(qk_rope_head_dim=7), "qk_rope_head_dim=7 must be even"),
        (dict(top_k=9), "top_k=9 experts per token, but there are only n_experts=8"),
    ],
)
def test_config_rejects_bad_values(changes, match):
    with pytest.raises(ValueError, match=match):
        CFG.with_(**changes)


def test_model_needs_an_mla_config():
    with pytest.raises(TypeError, match="MLAConfig"):
        MLAModel(MOE_TINY)


def test_head_dim_is_the_rotated_width_and_the_query_path_follows_q_lora_rank():
    assert CFG.head_dim == CFG.qk_rope_head_dim == 8
    low, full = MultiHeadLatentAttention(CFG), MultiHeadLatentAttention(FULL_RANK_Q)
    assert low.W_query_down.weight.shape == (CFG.q_lora_rank, CFG.emb_dim) and not hasattr(low, "W_query")
    assert full.W_query.weight.shape == (CFG.n_heads * 24, CFG.emb_dim) and not hasattr(full, "W_query_down")


@pytest.mark.parametrize("cfg", [CFG, FULL_RANK_Q], ids=["low-rank-q", "full-rank-q"])
def test_latent_attention_equals_the_formula_written_out(cfg):
    """Every head: q = [q_nope, RoPE(q_rope)], k = [W_uk c, RoPE(k_rope) shared], v = W_uv c, c = norm(W_dkv x)."""
    torch.manual_seed(0)
    att = MultiHeadLatentAttention(cfg)
    b, t, h = 2, 6, cfg.n_heads
    x = torch.randn(b, t, cfg.emb_dim)
    cos, sin = rope_angles(torch.arange(t).unsqueeze(0), cfg.head_dim, cfg.rope_base)
    nope, rope, v_dim = cfg.qk_nope_head_dim, cfg.qk_rope_head_dim, cfg.v_head_dim

    def rotate(z):  # RoPE by halves on (..., T, rope)
        z1, z2 = z[..., : rope // 2], z[..., rope // 2 :]
        return z * cos.unsqueeze(1) + torch.cat([-z2, z1], dim=-1) * sin.unsqueeze(1)

    q = att._queries(x).view(b, t, h, nope + rope).transpose(1, 2)
    down = att.W_kv_down(x)
    c, k_rope = down[..., : cfg.kv_lora_rank], down[..., cfg.kv_lora_rank :]
    c = c / torch.sqrt(c.pow(2).mean(-1, keepdim=True) + cfg.latent_norm_eps) * att.kv_norm.weight
    up = att.W_kv_up(c).view(b, t, h, nope + v_dim).transpose(1, 2)
    k = torch.cat([up[..., :nope], rotate(k_rope.unsqueeze(1)).expand(b, h, t, rope)], dim=-1)
    q = torch.cat([q[..., :nope], rotate(q[..., nope:])], dim=-1)
    scores = (q @ k.transpose(-2, -1)) / math.sqrt(nope + rope)
    scores = scores.masked_fill(torch.triu(torch.ones(t, t, dtype=torch.bool), 1), float("-inf"))
    expected = att.out_proj((scores.softmax(-1) @ up[..., nope:]).transpose(1, 2).reshape(b, t, h * v_dim))
    assert_close(att(x, cos, sin), expected, atol=1e-5)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_the_cache_stores_only_the_latent_and_the_rope_key(dtype):
    model = model_for().to(dtype)
    batch = 3
    cache = model.new_kv_cache()
    model(torch.randint(0, CFG.vocab_size, (batch, 5)), cache)
    allocated = sum(layer.keys.nbytes + layer.values.nbytes for layer in cache.layers)
    per_token_and_layer = allocated / (batch * cache.capacity * CFG.n_layers)
    element = torch.tensor([], dtype=dtype).element_size()
    assert (
        per_token_and_layer
        == (CFG.kv_lora_rank + CFG.qk_rope_head_dim) * element
        == CFG.latent_width * element
    )
    assert cache.layers[0].keys.shape == (batch, 1, CFG.context_length, CFG.kv_lora_rank)
    assert cache.layers[0].values.shape == (batch, 1, CFG.context_length, CFG.qk_rope_head_dim)
    assert len(cache) == 5
    full_keys_and_values = 2 * CFG.n_heads * (CFG.qk_nope_head_dim + CFG.qk_rope_head_dim) * element
    assert (
        per_token_and_layer < full_keys_and_values / 5
    )  # what standard attention with these heads would cache


@pytest.mark.parametrize("cfg", [CFG, FULL_RANK_Q], ids=["low-rank-q", "full-rank-q"])
def test_the_latent_cache_gives_the_cache_free_logits(cfg):
    model = model_for(cfg)
    ids = torch.randint(0, cfg.vocab_size, (2, 12))
    cache = model.new_kv_cache()
    parts = [model(ids[:, :5], cache), model(ids[:, 5:6], cache), model(ids[:, 6:], cache)]
    diff = assert_close(
        torch.cat(parts, dim=1), model(ids), atol=1e-5, what="with vs without the latent cache"
    )
    assert diff < 1e-5


def test_left_padding_and_keep_rows_with_the_latent_cache():
    model = model_for()
    short, long = torch.randint(0, CFG.vocab_size, (1, 4)), torch.randint(0, CFG.vocab_size, (1, 7))
    batch = torch.cat([torch.cat([torch.zeros(1, 3, dtype=torch.long), short], 1), long])  # (2, 7)
    mask = torch.tensor([[0, 0, 0, 1, 1, 1, 1], [1] * 7])
    cache = model.new_kv_cache()
    logits = model(batch, cache, attention_mask=mask)
    assert_close(logits[0, 3:], model(short)[0], atol=1e-5)
    nxt = torch.randint(0, CFG.vocab_size, (2, 1))
    step = model(nxt, cache)
    assert_close(step[0], model(torch.cat([short, nxt[:1]], 1))[0, -1:], atol=1e-5)
    cache.keep_rows(torch.tensor([1]))  # drop the first row (batched generation does it when a row ends)
    assert isinstance(cache.layers[0], LatentLayerCache) and cache.layers[0].keys.shape[0] == 1
    last = torch.randint(0, CFG.vocab_size, (1, 1))
    assert_close(model(last, cache)[0], model(torch.cat([long, nxt[1:], last], 1))[0, -1:], atol=1e-5)


def test_generate_with_and_without_the_latent_cache_agree():
    model = model_for()
    prompt = torch.randint(0, CFG.vocab_size, (2, 5))
    with_cache = generate(model, prompt, 25)  # 30 tokens > context_length 24: the window slides
    assert torch.equal(with_cache, generate(model, prompt, 25, use_cache=False))
