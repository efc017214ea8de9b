"""Our attention equals PyTorch's own, given the same weights; the fast module equals the teaching one.

References (built in-process, random weights, nothing downloaded):

- ``F.scaled_dot_product_attention`` fed with our projections, once with ``is_causal=True`` and once
  with an explicit boolean mask (where, careful, ``True`` means "may attend");
- ``nn.MultiheadAttention`` with our weights copied in: its ``in_proj_weight`` packs the query, key
  and value weights as rows ``[q; k; v]``, and its ``attn_mask`` uses ``True`` = masked out;
- ``MultiHeadAttentionFast.from_teaching`` against the teaching ``MultiHeadAttention``, forward and
  backward, in float32 and float64.

Every comparison goes through ``assert_close``, whose failure message reports the max and mean
absolute difference. float32 tolerances are a few ulps of the outputs' size; the float64 runs
show the differences are rounding only (~1e-7 in float32 become ~2e-16 in float64).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from llmscratch.model.attention import MultiHeadAttention, MultiHeadAttentionFast
from llmscratch.testing import assert_close

CONFIGS = [  # (d_in, d_out, n_heads, n_tokens, qkv_bias)
    (16, 16, 1, 7, False),
    (16, 24, 4, 10, True),
    (12, 12, 3, 1, False),
    (32, 64, 8, 16, True),
]
IDS = [f"din{c[0]}-dout{c[1]}-h{c[2]}-T{c[3]}-{'bias' if c[4] else 'nobias'}" for c in CONFIGS]
ATOL = {torch.float32: 1e-5, torch.float64: 1e-12}


def teaching(d_in, d_out, n_heads, qkv_bias, dtype=torch.float32, context_length=16, seed=0):
    torch.manual_seed(seed)
    return MultiHeadAttention(d_in, d_out, context_length, 0.0, n_heads, qkv_bias=qkv_bias).to(dtype).eval()


def inputs(n_tokens, d_in, dtype=torch.float32, batch=3, seed=1):
    torch.manual_seed(seed)
    return torch.randn(batch, n_tokens, d_in, dtype=dtype)


@torch.no_grad()
def sdpa_reference(mha: MultiHeadAttention, x: torch.Tensor, use_bool_mask: bool) -> torch.Tensor:
    b, n_tokens, _ = x.shape

    def heads(t):  # (B, T, C) -> (B, H, T, D)
        return t.view(b, n_tokens, mha.n_heads, mha.head_dim).transpose(1, 2)

    q, k, v = heads(mha.W_query(x)), heads(mha.W_key(x)), heads(mha.W_value(x))
    if use_bool_mask:  # SDPA's boolean convention: True = this position TAKES PART in attention
        allowed = torch.ones(n_tokens, n_tokens, dtype=torch.bool).tril()
        context = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
    else:
        context = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    return mha.out_proj(context.transpose(1, 2).reshape(b, n_tokens, mha.d_out))  # (B, H, T, D) -> (B, T, C)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("use_bool_mask", [False, True], ids=["is_causal", "bool_mask"])
@pytest.mark.parametrize("d_in, d_out, n_heads, n_tokens, qkv_bias", CONFIGS, ids=IDS)
def test_matches_scaled_dot_product_attention(d_in, d_out, n_heads, n_tokens, qkv_bias, use_bool_mask, dtype):
    mha = teaching(d_in, d_out, n_heads, qkv_bias, dtype)
    x = inputs(n_tokens, d_in, dtype)
    with torch.no_grad():
        ours = mha(x)
    assert_close(
        ours,
        sdpa_reference(mha, x, use_bool_mask),
        atol=ATOL[dtype],
        what="MultiHeadAttention vs F.scaled_dot_product_attention",
    )


def torch_mha_with_our_weights(mha: MultiHeadAttention) -> nn.MultiheadAttention:
    """``nn.MultiheadAttention`` holding ``mha``'s weights. It needs d_in == d_out (its embed_dim)."""
    ref = nn.MultiheadAttention(
        mha.d_out, mha.n_heads, bias=True, batch_first=True, dtype=mha.W_query.weight.dtype
    )
    with torch.no_grad():
        ref.in_proj_weight.copy_(
            torch.cat([mha.W_query.weight, mha.W_key.weight, mha.W_value.weight])
        )  # rows [q; k; v]
        if mha.W_query.bias is not None:
            ref.in_proj_bias.copy_(torch.cat([mha.W_query.bias, mha.W_key.bias, mha.W_value.bias]))
        else:  # ours has no q/k/v bias; torch's bias=True covers both projections, so zero this one
            ref.in_proj_bias.zero_()
        ref.out_proj.weight.copy_(mha.out_proj.weight)
        ref.out_proj.bias.copy_(mha.out_proj.bias)
    return ref.eval()


SQUARE = [c for c in CONFIGS if c[0] == c[1]]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
@pytest.mark.parametrize(
    "d_in, d_out, n_heads, n_tokens, qkv_bias", SQUARE, ids=[IDS[CONFIGS.index(c)] for c in SQUARE]
)
def test_matches_torch_multihead_attention(d_in, d_out, n_heads, n_tokens, qkv_bias, dtype):
    mha = teaching(d_in, d_out, n_heads, qkv_bias, dtype)
    ref = torch_mha_with_our_weights(mha)
    x = inputs(n_tokens, d_in, dtype)
    future = torch.ones(n_tokens, n_tokens, dtype=torch.bool).triu(
        diagonal=1
    )  # nn.MultiheadAttention: True = masked OUT
    with torch.no_grad():
        expected, _ = ref(x, x, x, attn_mask=future, need_weights=False)
        ours = mha(x)
    assert_close(ours, expected, atol=ATOL[dtype], what="MultiHeadAttention vs nn.MultiheadAttention")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("d_in, d_out, n_heads, n_tokens, qkv_bias", CONFIGS, ids=IDS)
def test_fast_equals_teaching_forward_and_backward(d_in, d_out, n_heads, n_tokens, qkv_bias, dtype):
    mha = teaching(d_in, d_out, n_heads, qkv_bias, dtype)
    fast = MultiHeadAttentionFast.from_teaching(mha)
    x = inputs(n_tokens, d_in, dtype)
    x_fast = x.clone().requires_grad_(True)
    x.requires_grad_(True)
    ours, theirs = mha(x), fast(x_fast)
    assert_close(theirs, ours, atol=ATOL[dtype], what="MultiHeadAttentionFast vs MultiHeadAttention outputs")

    grad_out = torch.randn_like(ours)
    ours.backward(grad_out)
    theirs.backward(grad_out)
    atol = 10 * ATOL[dtype]  # gradients sum over more terms
    assert_close(x_fast.grad, x.grad, atol=atol, what="input gradients")
    teaching_qkv_grad = torch.cat([mha.W_query.weight.grad, mha.W_key.weight.grad, mha.W_value.weight.grad])
    assert_close(fast.qkv.weight.grad, teaching_qkv_grad, atol=atol, what="q/k/v weight gradients")
    assert_close(
        fast.out_proj.weight.grad, mha.out_proj.weight.grad, atol=atol, what="out_proj weight gradients"
    )


def test_fast_dropout_matches_teaching_in_expectation():
    """In training mode the two draw different dropout masks, but both keep each weight with
    probability 1 - p and scale it by 1 / (1 - p): averaged over many draws they agree."""
    mha = teaching(8, 8, 2, False, context_length=4)
    mha.dropout.p = 0.5
    fast = MultiHeadAttentionFast.from_teaching(mha)
    mha.train(), fast.train()
    x = inputs(4, 8, batch=1)
    torch.manual_seed(5)
    with torch.no_grad():
        mean_teaching = torch.stack([mha(x) for _ in range(4000)]).mean(0)
        mean_fast = torch.stack([fast(x) for _ in range(4000)]).mean(0)
        eval_out = mha.eval()(x)
    # seeded, so deterministic; the standard error of a 4000-sample mean is at most ~0.014 here, so 0.06 is
    # ~4 standard errors, while dropout without the 1 / (1 - p) rescaling would be off by ~0.57
    assert_close(mean_teaching, eval_out, atol=0.06, what="teaching train-mode mean vs eval")
    assert_close(mean_fast, eval_out, atol=0.06, what="fast train-mode mean vs eval")
