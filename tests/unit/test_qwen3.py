"""qwen3: Qwen3Config (decoupled head_dim, bad values), QK-norm's scale invariance, the shared Llama
machinery (KV cache, left padding, generate) and tied or untied heads."""

from __future__ import annotations

import pytest
import torch

from llmscratch.model.generate import generate
from llmscratch.model.llama import LLAMA_TINY, LlamaModel, RMSNorm
from llmscratch.model.qwen3 import QWEN3_0_6B, QWEN3_TINY, Qwen3Config, Qwen3Model
from llmscratch.testing import assert_close

CFG = QWEN3_TINY.with_(vocab_size=97, context_length=32)


def model_for(cfg: Qwen3Config = CFG, seed: int = 0) -> Qwen3Model:
    torch.manual_seed(seed)
    model = Qwen3Model(cfg).eval()
    with torch.no_grad():  # norms start at 1; randomize them so a skipped norm would show
        for p in model.parameters():
            if p.dim() == 1:
                p.uniform_(0.5, 1.5)
    return model


@pytest.mark.parametrize(
    "changes, match",
    [
        (dict(n_kv_heads=3), "n_heads=4 is not a multiple of n_kv_heads=3"),
        (dict(head_dim=0), "head_dim must be a positive integer, got 0"),
        (dict(head_dim=7), r"head_dim = 7 \(emb_dim / n_heads unless set\) must be even"),
        (dict(n_heads=0), "n_heads must be a positive integer"),
    ],
)
def test_config_rejects_bad_values(changes, match):
    with pytest.raises(ValueError, match=match):
        CFG.with_(**changes)


def test_model_needs_a_qwen3_config():
    with pytest.raises(TypeError, match="Qwen3Model needs a Qwen3Config, got LlamaConfig"):
        Qwen3Model(LLAMA_TINY)


def test_head_dim_is_independent_of_the_width():
    att = Qwen3Model(CFG).blocks[0].att
    assert CFG.emb_dim // CFG.n_heads == 16 and CFG.head_dim == 24
    assert tuple(att.W_query.weight.shape) == (4 * 24, 64) and tuple(att.out_proj.weight.shape) == (
        64,
        4 * 24,
    )
    assert tuple(att.W_key.weight.shape) == (2 * 24, 64)
    assert QWEN3_0_6B.n_heads * QWEN3_0_6B.head_dim == 2 * QWEN3_0_6B.emb_dim
    with torch.device("meta"):  # the real size's parameter count, with no memory spent on weights
        n = sum(p.numel() for p in Qwen3Model(QWEN3_0_6B).parameters())  # the tied head counted once
    embedding = QWEN3_0_6B.vocab_size * QWEN3_0_6B.emb_dim
    assert round(n / 1e9, 1) == 0.6 and round((n - embedding) / 1e9, 2) == 0.44  # the model card's figures


def test_qk_norm_makes_attention_blind_to_the_scale_of_queries_and_keys():
    """RMSNorm divides each head by its root mean square, so scaling W_query and W_key changes nothing
    in Qwen3; in Llama (no QK-norm) the same change sharpens the attention and the logits move.
    (Only the norm's eps sees the scale, so it is made negligible here.)"""
    ids = torch.randint(0, CFG.vocab_size, (2, 12))
    qwen = model_for(CFG.with_(norm_eps=1e-12))
    llama = LlamaModel(LLAMA_TINY.with_(vocab_size=97)).eval()
    for model in (qwen, llama):
        before = model(ids)
        with torch.no_grad():
            for block in model.blocks:
                block.att.W_query.weight.mul_(7.0)
                block.att.W_key.weight.mul_(0.2)
        after = model(ids)
        if model is qwen:
            assert_close(after, before, atol=1e-5, what="Qwen3 logits after rescaling W_query/W_key")
        else:
            assert (after - before).abs().max() > 1e-3, "without QK-norm the rescaling must matter"


def test_qk_norm_is_an_rmsnorm_per_head_before_rope():
    att = model_for().blocks[0].att
    assert isinstance(att.q_norm, RMSNorm) and isinstance(att.k_norm, RMSNorm)
    assert tuple(att.q_norm.weight.shape) == (CFG.head_dim,)
    x = torch.randn(1, 5, CFG.head_dim)
    torch.testing.assert_close(
        att.q_norm(x), x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + CFG.norm_eps) * att.q_norm.weight
    )


def test_kv_cache_and_left_padding_give_the_plain_logits():
    model = model_for()
    ids = torch.randint(0, CFG.vocab_size, (1, 14))
    full = model(ids)
    cache = model.new_kv_cache()
    steps = [model(ids[:, :9], cache)] + [model(ids[:, i : i + 1], cache) for i in range(9, 14)]
    assert_close(torch.cat(steps, dim=1), full, atol=1e-5, what="cached vs plain logits")
    padded = torch.cat([torch.zeros(1, 3, dtype=torch.long), ids], dim=1)
    mask = torch.cat([torch.zeros(1, 3), torch.ones(1, 14)], dim=1)
    assert_close(model(padded, attention_mask=mask)[:, 3:], full, atol=1e-5, what="left-padded vs plain")


def test_generate_with_and_without_the_cache_agree():
    model = model_for()
    ids = torch.randint(0, CFG.vocab_size, (2, 5))
    assert generate(model, ids, 8).tolist() == generate(model, ids, 8, use_cache=False).tolist()


@pytest.mark.parametrize("tie", [True, False])
def test_tied_and_untied_heads(tie):
    model = Qwen3Model(CFG.with_(tie_embeddings=tie))
    assert (model.out_head.weight is model.tok_emb.weight) == tie
    names = set(model.state_dict())
    assert {"blocks.1.att.q_norm.weight", "blocks.1.att.k_norm.weight"} <= names
