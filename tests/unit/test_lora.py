"""lora: a fresh wrap changes nothing, merging changes nothing, the trainable count is r * (in + out).

Run on GPTModel (TINY) and, once it exists, the Llama-style model (skipped until then).
"""

from __future__ import annotations

import importlib.util

import pytest
import torch
from torch import nn

from llmscratch.finetune.classify import add_classification_head
from llmscratch.model.config import TINY
from llmscratch.model.gpt import GPTModel, count_parameters
from llmscratch.model.lora import LinearWithLoRA, LoRALayer, apply_lora, lora_parameter_count, merge_lora

MERGE_ATOL = 1e-5  # float32: (x A) B computed apart vs folded into W differ only by rounding


def gpt_model() -> nn.Module:
    torch.manual_seed(0)
    return GPTModel(TINY.with_(drop_rate=0.0)).eval()


def llama_model() -> nn.Module:
    if importlib.util.find_spec("llmscratch.model.llama") is None:
        pytest.skip("llmscratch.model.llama does not exist on this branch yet")
    from llmscratch.model import llama  # noqa: F401  (interface per the brief: a TINY-like config preset)

    cfg = getattr(llama, "TINY", None) or getattr(llama, "LLAMA_TINY", None)
    if cfg is None:
        pytest.skip("llmscratch.model.llama has no TINY preset")
    torch.manual_seed(0)
    model_cls = getattr(llama, "LlamaModel", None) or getattr(llama, "Llama", None)
    if model_cls is None:
        pytest.skip("llmscratch.model.llama has no LlamaModel / Llama class")
    return model_cls(cfg).eval()


MODELS = [pytest.param(gpt_model, id="gpt"), pytest.param(llama_model, id="llama")]


def _linear_shapes(model: nn.Module) -> list[tuple[int, int]]:
    return [(m.in_features, m.out_features) for m in model.modules() if isinstance(m, nn.Linear)]


def test_lora_layer_scaling_and_init():
    torch.manual_seed(0)
    layer = LoRALayer(6, 4, rank=2, alpha=8)
    assert layer.scaling == 4.0 and torch.count_nonzero(layer.B) == 0 and torch.count_nonzero(layer.A) == 12
    with torch.no_grad():
        layer.B.normal_()
    x = torch.randn(3, 6)
    torch.testing.assert_close(layer(x), 4.0 * x @ layer.A @ layer.B)
    torch.testing.assert_close(x @ layer.delta_weight().T, layer(x))
    with pytest.raises(ValueError, match="rank must be a positive integer, got 0"):
        LoRALayer(6, 4, rank=0, alpha=1)
    with pytest.raises(TypeError, match="wraps an nn.Linear, got Conv1d"):
        LinearWithLoRA(nn.Conv1d(2, 2, 1), rank=1, alpha=1)


@pytest.mark.parametrize("make", MODELS)
def test_fresh_wrap_gives_exactly_the_base_outputs(make):
    model = make()
    ids = torch.randint(0, model.cfg.vocab_size, (2, 7))
    with torch.no_grad():
        before = model(ids)
        apply_lora(model, rank=4, alpha=8)
        after = model(ids)
    assert torch.equal(before, after)  # B = 0: the update adds exact zeros
    wrapped = [m for m in model.modules() if isinstance(m, LinearWithLoRA)]
    assert len(wrapped) == len([m for m in make().modules() if isinstance(m, nn.Linear)])


@pytest.mark.parametrize("make", MODELS)
@pytest.mark.parametrize("rank", [1, 8])
def test_trainable_count_matches_the_formula(make, rank):
    model = make()
    shapes = _linear_shapes(model)
    expected = sum(rank * (fan_in + fan_out) for fan_in, fan_out in shapes)
    assert lora_parameter_count(model, rank) == expected
    apply_lora(model, rank=rank, alpha=16)
    assert count_parameters(model, trainable_only=True) == expected
    assert all(name.endswith(("lora.A", "lora.B")) for name, p in model.named_parameters() if p.requires_grad)


def test_targets_and_head_option():
    model = gpt_model()
    apply_lora(model, rank=2, alpha=4, targets=["W_query", "W_value"], include_head=False)
    names = [n for n, m in model.named_modules() if isinstance(m, LinearWithLoRA)]
    assert names == [f"blocks.{i}.att.{w}" for i in range(TINY.n_layers) for w in ("W_query", "W_value")]
    assert count_parameters(model, trainable_only=True) == len(names) * 2 * (TINY.emb_dim * 2)
    with pytest.raises(ValueError, match=r"no nn.Linear in the model matches targets=\['nope'\]"):
        apply_lora(gpt_model(), rank=2, alpha=4, targets=["nope"])


@pytest.mark.parametrize("make", MODELS)
def test_merged_equals_unmerged(make):
    torch.manual_seed(1)
    model = make()
    apply_lora(model, rank=4, alpha=8)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, LinearWithLoRA):
                module.lora.B.normal_(std=0.05)  # as if trained
    ids = torch.randint(0, model.cfg.vocab_size, (2, 7))
    with torch.no_grad():
        unmerged = model(ids)
        merge_lora(model)
        merged = model(ids)
    assert not any(isinstance(m, LinearWithLoRA) for m in model.modules())
    torch.testing.assert_close(merged, unmerged, atol=MERGE_ATOL, rtol=0)


def test_merging_a_tied_head_leaves_the_embedding_alone():
    model = gpt_model()
    table = model.emb.tok_emb.weight.detach().clone()
    apply_lora(model, rank=2, alpha=4)
    with torch.no_grad():
        model.out_head.lora.B.normal_()
    merge_lora(model)
    assert torch.equal(model.emb.tok_emb.weight, table)
    assert not torch.equal(model.out_head.weight, table)


def test_lora_on_a_classifier_trains_the_update_only():
    model = add_classification_head(gpt_model())
    apply_lora(model, rank=2, alpha=4)
    head = model.out_head
    assert isinstance(head, LinearWithLoRA) and head.out_features == 2
    assert count_parameters(model, trainable_only=True) == lora_parameter_count(
        add_classification_head(gpt_model()), 2
    )
    frozen = {n: p.detach().clone() for n, p in model.named_parameters() if not p.requires_grad}
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    loss = model(torch.tensor([[1, 2, 3]]))[:, -1].logsumexp(-1).sum()
    loss.backward()
    optimizer.step()
    assert torch.count_nonzero(head.lora.B) > 0  # the update moved
    assert all(torch.equal(p, frozen[n]) for n, p in model.named_parameters() if not p.requires_grad)
