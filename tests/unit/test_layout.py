"""layout: the (in, out) weight layout for generation gives the same layers, logits and greedy tokens."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from llmscratch.model.batched import generate_batch
from llmscratch.model.config import TINY
from llmscratch.model.generate import generate
from llmscratch.model.gpt import GPTModel
from llmscratch.model.llama import LLAMA_TINY, LlamaModel
from llmscratch.weights.layout import InOutLinear, to_in_out_layout

MODELS = {
    "gpt tied": lambda: GPTModel(TINY.with_(drop_rate=0.0, tie_embeddings=True)),
    "gpt untied, biases": lambda: GPTModel(TINY.with_(drop_rate=0.0, qkv_bias=True)),
    "llama tied": lambda: LlamaModel(LLAMA_TINY),
}


@pytest.mark.parametrize("bias", [False, True])
def test_in_out_linear_equals_the_linear_it_came_from(bias):
    torch.manual_seed(0)
    linear = nn.Linear(24, 40, bias=bias)
    layer = InOutLinear.from_linear(linear)
    assert layer.weight_t.shape == (24, 40) and layer.weight_t.is_contiguous()
    x = torch.randn(3, 5, 24)
    torch.testing.assert_close(layer(x), linear(x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", MODELS)
def test_the_layout_keeps_logits_and_greedy_tokens(name):
    torch.manual_seed(0)
    model = MODELS[name]().eval()
    moved = to_in_out_layout(copy.deepcopy(model))
    assert not any(isinstance(m, nn.Linear) for m in moved.modules())  # every linear moved
    ids = torch.randint(0, model.cfg.vocab_size, (3, 9))
    with torch.no_grad():
        diff = (moved(ids) - model(ids)).abs().max().item()
    assert diff < 1e-4, f"max |logit diff| {diff:.2e}"
    mask = torch.ones_like(ids)
    mask[0, :4], mask[1, :2] = 0, 0  # ragged, left-padded rows
    assert torch.equal(
        generate(moved, ids, 12, attention_mask=mask), generate(model, ids, 12, attention_mask=mask)
    )
    prompts = [ids[0, :3].tolist(), ids[1].tolist(), ids[2, :6].tolist()]
    assert generate_batch(moved, prompts, 8, batch_size=3) == generate_batch(model, prompts, 8, batch_size=1)


def test_a_tied_table_stays_one_tensor():
    torch.manual_seed(0)
    model = to_in_out_layout(GPTModel(TINY.with_(drop_rate=0.0, tie_embeddings=True)))
    table = model.emb.tok_emb.weight
    assert table.data_ptr() == model.out_head.weight_t.data_ptr()  # the lookup reads the head's memory
    assert table.shape == (TINY.vocab_size, TINY.emb_dim)


def test_in_out_linear_bad_weight():
    with pytest.raises(ValueError, match="in_features, out_features"):
        InOutLinear(torch.zeros(3))
