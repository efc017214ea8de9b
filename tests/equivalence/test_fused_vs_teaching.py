"""The package's fast path computes what the teaching path computes: outputs *and* gradients.

The package's default modules replace hand-written formulas by fused PyTorch kernels
(``F.layer_norm``, ``F.gelu(approximate="tanh")``, ``F.scaled_dot_product_attention``). They keep
the teaching modules' parameter names, so a state dict moves between the two unchanged, and here
we require the same forward outputs and the same gradients (everything training sees) within
float32 rounding. The whole-model test swaps every fused piece of a ``GPTModel`` back to its
teaching version and compares logits, loss and every parameter's gradient.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from llmscratch.model.block import GELU, LayerNorm, TeachingGELU, TeachingLayerNorm
from llmscratch.model.config import GPTConfig
from llmscratch.model.gpt import GPTModel
from llmscratch.testing import assert_close

ATOL = 1e-5  # float32: the fused kernels sum in another order; observed differences are ~1e-6


def _grads(module: nn.Module) -> dict[str, torch.Tensor]:
    return {name: p.grad.clone() for name, p in module.named_parameters()}


def _randomize(module: nn.Module, seed: int) -> None:
    """Norm scales/shifts away from 1/0, so a bug in how they are applied cannot hide."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=g))


@pytest.mark.parametrize("shape", [(2, 5, 16), (1, 1, 768), (3, 64)])
@pytest.mark.parametrize("offset", [0.0, 50.0])
def test_fused_layernorm_equals_the_formula_with_gradients(shape, offset):
    torch.manual_seed(0)
    teaching, fused = TeachingLayerNorm(shape[-1]), LayerNorm(shape[-1])
    _randomize(teaching, seed=1)
    fused.load_state_dict(teaching.state_dict(), strict=True)
    x = (offset + 3.0 * torch.randn(shape)).requires_grad_()
    x2 = x.detach().clone().requires_grad_()
    out_t, out_f = teaching(x), fused(x2)
    assert_close(out_f, out_t, atol=ATOL, rtol=1e-5, what="LayerNorm outputs")
    weights = torch.randn(shape)  # an arbitrary upstream gradient
    (out_t * weights).sum().backward()
    (out_f * weights).sum().backward()
    assert_close(x2.grad, x.grad, atol=ATOL, rtol=1e-4, what="LayerNorm input gradients")
    for name, g in _grads(teaching).items():
        assert_close(_grads(fused)[name], g, atol=1e-4, rtol=1e-5, what=f"LayerNorm {name}.grad")


def test_fused_layernorm_keeps_eps_and_the_teaching_state_dict():
    fused = LayerNorm(8, eps=1e-3)
    assert isinstance(fused, TeachingLayerNorm) and fused.eps == 1e-3
    assert set(fused.state_dict()) == set(TeachingLayerNorm(8).state_dict()) == {"weight", "bias"}
    x = torch.zeros(2, 8)
    x[:, 0] = 1.0  # small variance: eps matters
    teaching = TeachingLayerNorm(8, eps=1e-3)
    assert_close(fused(x), teaching(x), atol=1e-6, what="LayerNorm with eps=1e-3")


def test_fused_gelu_equals_the_formula_with_gradients():
    x = torch.linspace(-8, 8, 4001, dtype=torch.float32).requires_grad_()
    x2 = x.detach().clone().requires_grad_()
    out_t, out_f = TeachingGELU()(x), GELU()(x2)
    assert_close(out_f, out_t, atol=1e-6, rtol=1e-6, what="GELU outputs")
    out_t.sum().backward(), out_f.sum().backward()
    assert_close(x2.grad, x.grad, atol=1e-5, what="GELU gradients")
    assert isinstance(GELU(), TeachingGELU)


def _teaching_copy(model: GPTModel) -> GPTModel:
    """The same weights in the all-teaching model: formula LayerNorm/GELU, masked-softmax attention."""
    teaching = GPTModel(model.cfg.with_(attn_impl="teaching"))
    for name, module in list(teaching.named_modules()):
        parent_name, _, leaf = name.rpartition(".")
        parent = teaching.get_submodule(parent_name) if parent_name else teaching
        if type(module) is LayerNorm:
            setattr(parent, leaf, TeachingLayerNorm(module.weight.shape[0], eps=module.eps))
        elif type(module) is GELU:
            setattr(parent, leaf, TeachingGELU())
    teaching.load_state_dict(model.state_dict(), strict=True)
    assert not any(type(m) in (LayerNorm, GELU) for m in teaching.modules())
    return teaching


@pytest.mark.parametrize("tie", [True, False])
def test_fast_gpt_trains_like_the_teaching_gpt(tie):
    """Logits, loss and every gradient of the default (fast) model equal the all-teaching model's."""
    cfg = GPTConfig(
        vocab_size=257,
        context_length=32,
        emb_dim=64,
        n_heads=4,
        n_layers=2,
        drop_rate=0.0,
        tie_embeddings=tie,
    )
    torch.manual_seed(0)
    fast = GPTModel(cfg)
    _randomize(fast, seed=2)
    teaching = _teaching_copy(fast)
    g = torch.Generator().manual_seed(3)
    x = torch.randint(0, cfg.vocab_size, (3, 32), generator=g)
    y = torch.randint(0, cfg.vocab_size, (3, 32), generator=g)
    logits_f, logits_t = fast(x), teaching(x)
    assert_close(logits_f, logits_t, atol=1e-4, what="logits, fast vs teaching")
    loss_f = F.cross_entropy(logits_f.flatten(0, 1), y.flatten())
    loss_t = F.cross_entropy(logits_t.flatten(0, 1), y.flatten())
    assert abs(loss_f.item() - loss_t.item()) < 1e-5
    loss_f.backward(), loss_t.backward()
    grads_t = _grads(teaching)
    for name, grad in _grads(fast).items():
        scale = grads_t[name].abs().max().item()
        assert_close(grad, grads_t[name], atol=1e-4 * max(scale, 1e-3), what=f"{name}.grad, fast vs teaching")


def test_tied_table_gradient_is_dense_and_equals_the_dense_lookup():
    """GPTModel's tied token table takes its lookup gradient sparse (``_sparse_token_grad``): the
    stored ``.grad`` must be dense and equal what a dense lookup gives, so any optimizer works."""
    cfg = GPTConfig(vocab_size=257, context_length=16, emb_dim=32, n_heads=4, n_layers=1, drop_rate=0.0)
    torch.manual_seed(0)
    model = GPTModel(cfg)
    x = torch.randint(0, cfg.vocab_size, (2, 16), generator=torch.Generator().manual_seed(1))
    assert model._sparse_token_grad()
    model(x).square().mean().backward()
    sparse_path = model.emb.tok_emb.weight.grad.clone()
    assert not sparse_path.is_sparse
    model.zero_grad()
    model._sparse_token_grad = lambda: False  # the plain dense lookup
    model(x).square().mean().backward()
    assert_close(
        sparse_path,
        model.emb.tok_emb.weight.grad,
        atol=1e-7,
        what="tied table gradient, sparse vs dense lookup",
    )
    torch.optim.AdamW(model.parameters(), fused=True).step()  # fused AdamW refuses sparse gradients


def test_untied_or_replaced_head_keeps_a_dense_lookup_gradient():
    cfg = GPTConfig(vocab_size=257, context_length=16, emb_dim=32, n_heads=4, n_layers=1, drop_rate=0.0)
    untied = GPTModel(cfg.with_(tie_embeddings=False))
    assert not untied._sparse_token_grad()
    classifier = GPTModel(cfg)
    classifier.out_head = nn.Linear(cfg.emb_dim, 2)  # chapter 6 swaps the head: the table is no longer shared
    assert not classifier._sparse_token_grad()
    classifier(torch.zeros(1, 4, dtype=torch.long)).sum().backward()
    assert not classifier.emb.tok_emb.weight.grad.is_sparse
    with torch.no_grad():
        assert not GPTModel(cfg)._sparse_token_grad()


@pytest.mark.parametrize("set_to_none", [True, False])
@pytest.mark.parametrize("autocast", [False, True])
def test_adamw_training_with_the_sparse_lookup_equals_the_dense_lookup(set_to_none, autocast):
    """Several AdamW steps (weight decay on, as in chapter 5) take the same weights whichever lookup
    gradient the tied table gets. Chapter 5's 124M run stalled; this rules out the sparse path: both
    gradient contributions of the shared table (lookup rows and output layer) reach the optimizer,
    and decay applies to the whole table either way. Both ``zero_grad`` modes are covered (with
    ``set_to_none=False`` the step's gradient is added into an existing zero ``.grad``)."""
    cfg = GPTConfig(vocab_size=257, context_length=16, emb_dim=32, n_heads=4, n_layers=2, drop_rate=0.0)
    gen = torch.Generator().manual_seed(1)
    batches = [torch.randint(0, cfg.vocab_size, (2, 17), generator=gen) for _ in range(4)]

    def trained(sparse: bool) -> GPTModel:
        torch.manual_seed(0)
        model = GPTModel(cfg)
        if not sparse:
            model._sparse_token_grad = lambda: False
        opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1)
        for ids in batches:
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
                logits = model(ids[:, :-1])  # (2, 16, V)
            assert model._sparse_token_grad() == sparse
            loss = F.cross_entropy(logits.float().flatten(0, 1), ids[:, 1:].flatten())
            opt.zero_grad(set_to_none=set_to_none)
            loss.backward()
            opt.step()
        return model

    sparse, dense = trained(True).state_dict(), trained(False).state_dict()
    for name, value in dense.items():
        if name.endswith(
            "W_key.bias"
        ):  # its true gradient is 0 (softmax ignores a shift shared by all keys):
            continue  # Adam divides rounding noise by its own size, so this bias moves by noise of size lr
        assert_close(
            sparse[name], value, atol=1e-5, what=f"{name} after 4 AdamW steps, sparse vs dense lookup"
        )
    assert not torch.equal(
        dense["emb.tok_emb.weight"], GPTModel(cfg).emb.tok_emb.weight
    )  # training moved the table
