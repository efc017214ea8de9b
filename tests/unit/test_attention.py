"""Behaviour and bad input of ``llmscratch.model.attention``, for the teaching and the fast module alike.

Every behavioural test is parametrized over both classes: shapes, causality (a token never sees
the future), dropout only in training mode, and the errors for bad configurations and inputs.
The last tests pin the contract chapter 4 relies on (parameter names, a non-persistent mask) and
check the teaching -> fast weight conversion.
"""

from __future__ import annotations

import pytest
import torch

from llmscratch.model.attention import MultiHeadAttention, MultiHeadAttentionFast, fuse_qkv_state_dict
from llmscratch.testing import assert_close

CLASSES = [MultiHeadAttention, MultiHeadAttentionFast]


def make(cls, d_in=16, d_out=24, context_length=10, drop_rate=0.0, n_heads=4, qkv_bias=False, seed=0):
    torch.manual_seed(seed)
    return cls(d_in, d_out, context_length, drop_rate, n_heads, qkv_bias=qkv_bias)


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("batch, n_tokens", [(1, 1), (2, 7), (3, 10)])
def test_output_shape(cls, batch, n_tokens):
    mha = make(cls)
    out = mha(torch.randn(batch, n_tokens, 16))
    assert out.shape == (batch, n_tokens, 24)


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("t", [0, 3, 8])
def test_changing_future_tokens_never_changes_earlier_outputs(cls, t):
    """Replace every token after position t: outputs 0..t stay bit-identical, later ones change."""
    mha = make(cls, qkv_bias=True).eval()
    torch.manual_seed(1)
    x = torch.randn(2, 10, 16)
    x_changed = x.clone()
    x_changed[:, t + 1 :] = torch.randn(2, 10 - t - 1, 16)
    out, out_changed = mha(x), mha(x_changed)
    assert torch.equal(out[:, : t + 1], out_changed[:, : t + 1]), (
        f"outputs up to position {t} changed by {(out[:, : t + 1] - out_changed[:, : t + 1]).abs().max():.3e} "
        "when only later tokens changed: the causal mask leaks"
    )
    assert not torch.allclose(out[:, t + 1 :], out_changed[:, t + 1 :]), (
        "later outputs should depend on the changed tokens"
    )


@pytest.mark.parametrize("cls", CLASSES)
def test_jacobian_is_block_lower_triangular(cls):
    """d out[t] / d x[s] is exactly zero for every s > t, and not zero for s <= t."""
    mha = make(cls, d_in=4, d_out=4, n_heads=2, context_length=6).double().eval()
    torch.manual_seed(2)
    x = torch.randn(1, 5, 4, dtype=torch.double)
    jac = torch.autograd.functional.jacobian(lambda inp: mha(inp), x)  # (1, 5, 4, 1, 5, 4)
    influence = jac.abs().sum(dim=(0, 2, 3, 5))  # (T_out, T_in)
    future = torch.triu(torch.ones(5, 5, dtype=torch.bool), diagonal=1)
    assert (influence[future] == 0).all(), f"future tokens influence the past:\n{influence}"
    assert (influence[~future] > 0).all(), f"some allowed position has no influence:\n{influence}"


@pytest.mark.parametrize("cls", CLASSES)
def test_eval_mode_is_deterministic_and_ignores_dropout(cls):
    mha = make(cls, drop_rate=0.5).eval()
    no_dropout = make(cls, drop_rate=0.0).eval()  # same seed -> same weights
    x = torch.randn(2, 8, 16)
    assert torch.equal(mha(x), mha(x))
    assert torch.equal(mha(x), no_dropout(x)), "in eval mode drop_rate must have no effect"


@pytest.mark.parametrize("cls", CLASSES)
def test_dropout_is_active_only_in_training_mode(cls):
    mha = make(cls, drop_rate=0.5)
    x = torch.randn(2, 8, 16)
    mha.train()
    torch.manual_seed(3)
    first = mha(x)
    torch.manual_seed(4)
    second = mha(x)
    torch.manual_seed(3)
    first_again = mha(x)
    assert not torch.allclose(first, second), (
        "two training passes with different seeds gave the same output: no dropout"
    )
    assert torch.equal(first, first_again), "the same seed should give the same dropout pattern"
    mha.eval()
    assert not torch.allclose(first, mha(x)), "training output equals eval output: dropout did nothing"


@pytest.mark.parametrize("cls", CLASSES)
def test_drop_rate_zero_trains_like_eval(cls):
    mha = make(cls, drop_rate=0.0)
    x = torch.randn(2, 8, 16)
    assert torch.equal(mha.train()(x), mha.eval()(x))


def test_teaching_attention_weights_are_causal_rows_summing_to_one():
    mha = make(MultiHeadAttention, qkv_bias=True)
    weights = mha.attention_weights(torch.randn(2, 7, 16))
    assert weights.shape == (2, 4, 7, 7)
    assert_close(weights.sum(-1), torch.ones(2, 4, 7), atol=1e-6, what="row sums")
    future = torch.ones(7, 7, dtype=torch.bool).triu(diagonal=1)
    assert (weights[..., future] == 0).all(), "a token attends to a later token"
    assert (weights[..., ~future] > 0).all(), "softmax weights of allowed positions should be positive"


@torch.no_grad()
def test_teaching_forward_is_built_from_its_attention_weights():
    """forward(x) = out_proj(merge_heads(attention_weights(x) @ values)): the method shows what forward uses."""
    mha = make(MultiHeadAttention).eval()
    x = torch.randn(2, 6, 16)
    weights = mha.attention_weights(x)  # (B, H, T, T)
    values = mha.W_value(x).view(2, 6, 4, 6).transpose(1, 2)  # (B, T, C) -> (B, H, T, D)
    context = (weights @ values).transpose(1, 2).reshape(2, 6, 24)  # (B, H, T, D) -> (B, T, C)
    assert torch.equal(mha.out_proj(context), mha(x))


# ------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("cls", CLASSES)
def test_d_out_not_divisible_by_n_heads(cls):
    with pytest.raises(ValueError, match=r"d_out=10 must be divisible by n_heads=4.*n_heads=5 would work"):
        cls(8, 10, 6, 0.0, 4)


@pytest.mark.parametrize("cls", CLASSES)
def test_n_heads_must_be_positive(cls):
    with pytest.raises(ValueError, match="n_heads must be at least 1, got 0"):
        cls(8, 8, 6, 0.0, 0)


@pytest.mark.parametrize("cls", CLASSES)
def test_input_longer_than_context_length(cls):
    mha = make(cls, context_length=10)
    with pytest.raises(
        ValueError, match=r"input has 11 tokens but context_length is 10; crop it to the last 10 tokens"
    ):
        mha(torch.randn(1, 11, 16))


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize(
    "shape, message",
    [
        ((5, 16), r"x must have shape \(batch, num_tokens, d_in=16\), got \(5, 16\)"),
        ((1, 5, 15), "x has 15 features per token but the module expects d_in=16"),
    ],
)
def test_wrong_input_shape(cls, shape, message):
    with pytest.raises(ValueError, match=message):
        make(cls)(torch.randn(*shape))


def test_fast_rejects_a_drop_rate_outside_0_1():
    with pytest.raises(ValueError, match="drop_rate must be between 0 and 1, got 1.5"):
        MultiHeadAttentionFast(8, 8, 6, 1.5, 2)


# ------------------------------------------------------------ contract and weight conversion


@pytest.mark.parametrize("qkv_bias", [False, True])
def test_teaching_parameter_names_and_non_persistent_mask(qkv_bias):
    """Chapter 4's model and the GPT-2 weight map rely on these exact names; the mask is not a weight."""
    mha = make(MultiHeadAttention, qkv_bias=qkv_bias)
    expected = {"W_query.weight", "W_key.weight", "W_value.weight", "out_proj.weight", "out_proj.bias"}
    if qkv_bias:
        expected |= {"W_query.bias", "W_key.bias", "W_value.bias"}
    assert set(mha.state_dict()) == expected
    assert "mask" in dict(mha.named_buffers()) and mha.mask.shape == (10, 10)


@pytest.mark.parametrize("qkv_bias", [False, True])
def test_from_teaching_copies_configuration_weights_and_mode(qkv_bias):
    mha = make(MultiHeadAttention, drop_rate=0.25, qkv_bias=qkv_bias).double().eval()
    fast = MultiHeadAttentionFast.from_teaching(mha)
    assert (fast.d_in, fast.d_out, fast.n_heads, fast.context_length, fast.drop_rate) == (16, 24, 4, 10, 0.25)
    assert (fast.qkv.bias is not None) == qkv_bias
    assert fast.qkv.weight.dtype == torch.double and not fast.training
    q, k, v = fast.qkv.weight.split(24, dim=0)
    assert (
        torch.equal(q, mha.W_query.weight)
        and torch.equal(k, mha.W_key.weight)
        and torch.equal(v, mha.W_value.weight)
    )
    assert fast.qkv.weight.data_ptr() != mha.W_query.weight.data_ptr(), "the fast module must own its weights"


def test_fuse_qkv_state_dict_handles_prefixes_and_passes_other_keys():
    """A whole model's state dict converts in one call: each attention block gets its own qkv."""
    sd = {}
    for block in (0, 1):
        for i, name in enumerate(("W_query", "W_key", "W_value")):
            sd[f"blocks.{block}.att.{name}.weight"] = torch.full((2, 3), float(10 * block + i))
        sd[f"blocks.{block}.att.out_proj.weight"] = torch.zeros(2, 2)
    sd["tok_emb.weight"] = torch.zeros(5, 3)
    fused = fuse_qkv_state_dict(sd)
    assert set(fused) == {
        "blocks.0.att.qkv.weight",
        "blocks.1.att.qkv.weight",
        "blocks.0.att.out_proj.weight",
        "blocks.1.att.out_proj.weight",
        "tok_emb.weight",
    }
    assert fused["blocks.1.att.qkv.weight"][:, 0].tolist() == [10, 10, 11, 11, 12, 12]


def test_fuse_qkv_state_dict_rejects_an_incomplete_set():
    with pytest.raises(KeyError, match=r"att.weight: found \['W_key', 'W_query'\] but not \['W_value'\]"):
        fuse_qkv_state_dict({"att.W_query.weight": torch.zeros(1), "att.W_key.weight": torch.zeros(1)})
