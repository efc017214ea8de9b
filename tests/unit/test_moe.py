"""moe: MoEConfig checks, the two routers, MoEFeedForward against a token-by-token loop, expert load,
active parameters, and MoEModel's cache, padding and generation (inherited from the Llama sibling)."""

from __future__ import annotations

import pytest
import torch

from llmscratch.model.generate import generate
from llmscratch.model.gpt import count_parameters
from llmscratch.model.llama import LLAMA_TINY, SwiGLU
from llmscratch.model.moe import (
    MOE_TINY,
    MoEConfig,
    MoEFeedForward,
    MoEModel,
    QKNormAttention,
    Router,
    count_active_parameters,
)
from llmscratch.testing import assert_close

CFG = MOE_TINY.with_(
    vocab_size=97, context_length=24, emb_dim=48, n_heads=4, n_kv_heads=2, n_experts=6, top_k=2
)
GROUPED = CFG.with_(router="sigmoid_grouped", n_groups=3, topk_groups=2, routed_scale=2.5, n_shared_experts=1)


def model_for(cfg: MoEConfig = CFG, seed: int = 0) -> MoEModel:
    torch.manual_seed(seed)
    model = MoEModel(cfg).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1:
                p.uniform_(0.5, 1.5)
            elif name.endswith("router.weight"):
                p.normal_(0, 0.5)  # spread the router scores, so experts differ per token
    return model


@pytest.mark.parametrize(
    "changes, match",
    [
        (dict(top_k=7), "top_k=7 experts per token, but there are only n_experts=6"),
        (dict(top_k=0), "top_k must be a positive integer"),
        (dict(n_experts=0), "n_experts must be a positive integer"),
        (dict(router="hash"), "router must be one of"),
        (dict(n_dense_layers=3), "n_dense_layers must be between 0 and n_layers=2"),
        (dict(n_shared_experts=-1), "n_shared_experts must be 0 or more"),
        (dict(routed_scale=0.0), "routed_scale must be positive"),
        (dict(attn_head_dim=0), "attn_head_dim must be a positive integer or None"),
        (dict(moe_hidden_dim=0), "moe_hidden_dim must be a positive integer"),
    ],
)
def test_config_rejects_bad_values(changes, match):
    with pytest.raises(ValueError, match=match):
        CFG.with_(**changes)


@pytest.mark.parametrize(
    "changes, match",
    [
        (dict(n_groups=4), "must split evenly into n_groups=4"),
        (dict(n_groups=6, topk_groups=1), "each group needs 2 experts or more"),
        (dict(topk_groups=4), "topk_groups=4 is more than n_groups=3"),
        (dict(topk_groups=1, top_k=3), "top_k=3 experts cannot come from 1 group"),
    ],
)
def test_grouped_router_rejects_impossible_groups(changes, match):
    with pytest.raises(ValueError, match=match):
        GROUPED.with_(**changes)


def test_model_needs_a_moe_config():
    with pytest.raises(TypeError, match="MoEConfig"):
        MoEModel(LLAMA_TINY)


def test_head_dim_can_be_decoupled_from_the_width():
    cfg = CFG.with_(attn_head_dim=20)  # 4 heads x 20 = 80 != emb_dim 48
    assert (cfg.head_dim, CFG.head_dim) == (20, 12)
    att = MoEModel(cfg).blocks[0].att
    assert isinstance(att, QKNormAttention) and att.W_query.weight.shape == (80, 48)
    assert att.q_norm.weight.shape == (20,)


def test_softmax_router_keeps_the_top_k_probabilities_renormalized_or_not():
    torch.manual_seed(0)
    router, x = Router(CFG), torch.randn(10, CFG.emb_dim)
    probs = (x @ router.weight.T).softmax(dim=-1)  # (N, E)
    routing = router(x)
    assert_close(routing.scores, probs, atol=1e-6)
    top = probs.topk(CFG.top_k, dim=-1)
    assert torch.equal(routing.experts, top.indices)
    assert_close(routing.weights, top.values / top.values.sum(-1, keepdim=True), atol=1e-6)
    raw = Router(CFG.with_(norm_topk_prob=False))
    raw.load_state_dict(router.state_dict())
    assert_close(raw(x).weights, top.values, atol=1e-6)  # without renormalization: the probabilities


def test_grouped_router_worked_example():
    """4 experts in 2 groups, one group and one expert per token; sigmoid scores, bias steers the choice.

    Logits (0, 1, 2, -3) -> sigmoid scores (0.5, 0.73, 0.88, 0.05). Group scores are each group's two best
    scores summed: (1.23, 0.93), so group 0 wins and expert 1 is chosen, although expert 2 scores higher.
    A bias of +1 on expert 3 lifts group 1 to (0.88 + 1.05 = 1.93): expert 3 is chosen (3 beats 2 after the
    bias), and its weight is its *plain* score 0.05 (times routed_scale 2).
    """
    cfg = MoEConfig(
        vocab_size=8, context_length=8, emb_dim=4, n_heads=1, n_kv_heads=1, n_layers=1, hidden_dim=4,
        attn_head_dim=None, n_experts=4, top_k=1, moe_hidden_dim=2, router="sigmoid_grouped",
        n_groups=2, topk_groups=1, norm_topk_prob=False, routed_scale=2.0,
    )  # fmt: skip
    router = Router(cfg)
    with torch.no_grad():
        router.weight.copy_(torch.diag(torch.tensor([0.0, 1.0, 2.0, -3.0])))
    x = torch.ones(1, 4)
    routing = router(x)
    assert routing.experts.tolist() == [[1]]
    assert_close(routing.weights, 2.0 * torch.sigmoid(torch.tensor([[1.0]])), atol=1e-6)
    router.score_bias[3] = 1.0
    routing = router(x)
    assert routing.experts.tolist() == [[3]]
    assert_close(routing.weights, 2.0 * torch.sigmoid(torch.tensor([[-3.0]])), atol=1e-6)


@pytest.mark.parametrize("cfg", [CFG, GROUPED], ids=["softmax", "sigmoid-grouped-shared"])
def test_moe_feed_forward_equals_a_loop_over_tokens_and_counts_the_load(cfg):
    torch.manual_seed(0)
    ff = MoEFeedForward(cfg)
    with torch.no_grad():
        ff.router.weight.normal_(0, 0.5)
        if cfg.router == "sigmoid_grouped":
            ff.router.score_bias.normal_(0, 0.3)
    x = torch.randn(2, 5, cfg.emb_dim)
    out = ff(x)
    routing = ff.router(x.reshape(10, -1))
    expected = torch.stack(
        [
            sum(w * ff.experts[e](token) for w, e in zip(routing.weights[n], routing.experts[n].tolist()))
            + (ff.shared(token) if ff.shared is not None else 0)
            for n, token in enumerate(x.reshape(10, -1))
        ]
    ).view(2, 5, -1)
    assert_close(out, expected, atol=1e-6)
    assert ff.load.sum().item() == 10 * cfg.top_k
    assert ff.load.tolist() == torch.bincount(routing.experts.flatten(), minlength=cfg.n_experts).tolist()


def test_one_expert_is_a_dense_swiglu_and_all_experts_is_a_softmax_mixture():
    torch.manual_seed(0)
    x = torch.randn(1, 4, CFG.emb_dim)
    single = MoEFeedForward(CFG.with_(n_experts=1, top_k=1, moe_hidden_dim=CFG.hidden_dim))
    dense = SwiGLU(CFG)
    dense.load_state_dict(single.experts[0].state_dict())
    assert_close(single(x), dense(x), atol=1e-6)  # weight 1 after renormalization
    every = MoEFeedForward(CFG.with_(top_k=CFG.n_experts))
    probs = (x @ every.router.weight.T).softmax(-1)  # (1, 4, E)
    mixture = sum(probs[..., e : e + 1] * every.experts[e](x) for e in range(CFG.n_experts))
    assert_close(every(x), mixture, atol=1e-6)


def test_active_parameters_count_top_k_experts_per_moe_layer():
    cfg = GROUPED.with_(n_layers=3, n_dense_layers=1)
    model = MoEModel(cfg)
    counts = count_active_parameters(model)
    per_expert = 3 * cfg.emb_dim * cfg.moe_hidden_dim
    assert counts.total == count_parameters(model)
    assert counts.total - counts.active == 2 * (cfg.n_experts - cfg.top_k) * per_expert
    assert isinstance(model.blocks[0].ff, SwiGLU) and isinstance(model.blocks[1].ff, MoEFeedForward)


def test_expert_load_of_the_last_pass():
    model = model_for()
    with pytest.raises(RuntimeError, match="no forward pass yet"):
        model.expert_load()
    model(torch.randint(0, CFG.vocab_size, (3, 7)))
    load = model.expert_load()
    assert load.layers == [0, 1] and load.counts.shape == (2, CFG.n_experts)
    assert load.counts.sum(dim=1).tolist() == [3 * 7 * CFG.top_k] * 2
    assert (load.counts > 0).sum().item() > CFG.top_k  # the router spreads tokens over several experts


@pytest.mark.parametrize("cfg", [CFG, GROUPED.with_(n_dense_layers=1)], ids=["qwen3-moe", "deepseek-router"])
def test_kv_cache_and_left_padding_give_the_plain_logits(cfg):
    model = model_for(cfg)
    ids = torch.randint(0, cfg.vocab_size, (2, 11))
    cache = model.new_kv_cache()
    parts = [model(ids[:, :5], cache), model(ids[:, 5:6], cache), model(ids[:, 6:], cache)]
    assert_close(torch.cat(parts, dim=1), model(ids), atol=1e-5)
    short = ids[:1, :4]
    padded = torch.cat([torch.zeros(1, 3, dtype=torch.long), short], 1)
    logits = model(padded, attention_mask=torch.tensor([[0, 0, 0, 1, 1, 1, 1]]))
    assert_close(logits[0, 3:], model(short)[0], atol=1e-5)


def test_generate_with_and_without_cache_agree():
    model = model_for()
    prompt = torch.randint(0, CFG.vocab_size, (2, 5))
    with_cache = generate(model, prompt, 25)  # 30 tokens > context_length 24: the window slides
    assert torch.equal(with_cache, generate(model, prompt, 25, use_cache=False))
