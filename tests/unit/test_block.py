"""layers: LayerNorm, GELU, FeedForward and TransformerBlock (behaviour and bad input).

Equality with ``nn.LayerNorm``, ``nn.GELU(approximate="tanh")`` and GPT-2 itself is in
``tests/equivalence/test_gpt2_vs_transformers.py``.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from llmscratch.model.attention import MultiHeadAttention
from llmscratch.model.block import GELU, FeedForward, LayerNorm, TransformerBlock
from llmscratch.model.config import TINY
from llmscratch.testing import assert_same_module

CFG = TINY.with_(vocab_size=97, context_length=16, emb_dim=32, n_heads=4)


def test_layernorm_normalizes_each_token():
    torch.manual_seed(0)
    x = 3.0 + 5.0 * torch.randn(2, 7, 32)
    y = LayerNorm(32)(x)
    torch.testing.assert_close(y.mean(dim=-1), torch.zeros(2, 7), atol=1e-5, rtol=0)
    torch.testing.assert_close(y.var(dim=-1, unbiased=False), torch.ones(2, 7), atol=1e-4, rtol=0)


def test_layernorm_scale_and_shift_are_applied_after_normalizing():
    torch.manual_seed(0)
    x = torch.randn(4, 8)
    norm = LayerNorm(8)
    plain = norm(x)
    with torch.no_grad():
        norm.weight.fill_(2.0), norm.bias.fill_(0.5)
    torch.testing.assert_close(norm(x), 2.0 * plain + 0.5)


def test_layernorm_has_nn_layernorm_parameter_names():
    assert set(LayerNorm(8).state_dict()) == set(nn.LayerNorm(8).state_dict()) == {"weight", "bias"}


def test_layernorm_of_a_constant_vector_is_finite():
    y = LayerNorm(5)(torch.full((1, 5), 7.0))  # variance 0: eps keeps the division finite
    assert torch.equal(y, torch.zeros(1, 5))


def test_gelu_shape_of_the_curve():
    gelu = GELU()
    x = torch.linspace(-6, 6, 1201)
    y = gelu(x)
    assert gelu(torch.tensor(0.0)).item() == 0.0
    torch.testing.assert_close(y[x > 4], x[x > 4], atol=1e-3, rtol=0)  # about x for large x
    assert y[x < -4].abs().max() < 1e-3  # about 0 for very negative x
    assert -0.18 < y.min().item() < -0.16  # the dip below zero that ReLU lacks
    assert -0.8 < x[y.argmin()].item() < -0.7
    exact = 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))  # x * Phi(x): the tanh form approximates it
    assert (y - exact).abs().max() < 1e-3


def test_feedforward_widens_four_times_and_keeps_the_shape():
    ff = FeedForward(32)
    assert (ff.fc.in_features, ff.fc.out_features, ff.proj.out_features) == (32, 128, 32)
    assert ff(torch.randn(2, 5, 32)).shape == (2, 5, 32)
    assert FeedForward(32, hidden_dim=10).fc.out_features == 10


def test_feedforward_treats_each_position_on_its_own():
    torch.manual_seed(0)
    ff, x = FeedForward(16), torch.randn(1, 4, 16)
    changed = x.clone()
    changed[0, 2] += 1.0
    out, out_changed = ff(x), ff(changed)
    assert torch.equal(out[0, [0, 1, 3]], out_changed[0, [0, 1, 3]])
    assert not torch.equal(out[0, 2], out_changed[0, 2])


def test_block_keeps_the_shape_and_is_causal():
    torch.manual_seed(0)
    block = TransformerBlock(CFG).eval()
    x = torch.randn(2, 10, 32)
    out = block(x)
    assert out.shape == x.shape
    later_changed = x.clone()
    later_changed[:, 6:] = torch.randn(2, 4, 32)
    torch.testing.assert_close(block(later_changed)[:, :6], out[:, :6], atol=0, rtol=0)


def test_block_forward_is_the_two_residual_equations():
    """x1 = x + Attn(LN1(x)); x2 = x1 + FF(LN2(x1)), recomputed from the sub-modules."""
    torch.manual_seed(0)
    block = TransformerBlock(CFG).eval()
    x = torch.randn(2, 6, 32)
    x1 = x + block.att(block.norm1(x))
    torch.testing.assert_close(block(x), x1 + block.ff(block.norm2(x1)), atol=0, rtol=0)


@pytest.mark.parametrize("impl, atol", [("teaching", 0.0), ("sdpa", 1e-6)])
def test_block_attention_is_chapter_3s_multi_head_attention(impl, atol):
    """Without a cache the block's attention computes chapter 3's class, weight for weight
    (exactly on the teaching path; up to float rounding through F.scaled_dot_product_attention)."""
    torch.manual_seed(0)
    block = TransformerBlock(CFG.with_(qkv_bias=True, attn_impl=impl))
    assert isinstance(block.att, MultiHeadAttention) and block.att.impl == impl
    reference = MultiHeadAttention(32, 32, CFG.context_length, 0.0, CFG.n_heads, qkv_bias=True)
    assert assert_same_module(reference, block.att, torch.randn(2, 9, 32), atol=atol) <= atol


def test_block_dropout_is_active_only_in_training():
    torch.manual_seed(0)
    block = TransformerBlock(CFG.with_(drop_rate=0.5))
    x = torch.randn(2, 6, 32)
    assert not torch.equal(block.train()(x), block(x))
    assert torch.equal(block.eval()(x), block(x))


def test_block_rejects_input_longer_than_the_context():
    with pytest.raises(ValueError, match="input has 17 tokens but context_length is 16"):
        TransformerBlock(CFG)(torch.randn(1, 17, 32))
