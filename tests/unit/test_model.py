"""model: GPTModel's outputs, causality, weight tying, initialization, parameter counts, bad input."""

from __future__ import annotations

import math

import pytest
import torch

from llmscratch.config import GPT2_124M, GPT2_355M, GPT2_774M, GPT2_1558M, TINY, GPTConfig
from llmscratch.model import GPTModel, count_parameters, parameter_memory_mib

CFG = TINY.with_(vocab_size=97, context_length=16, emb_dim=32, n_heads=4, drop_rate=0.0)


def expected_parameter_count(cfg: GPTConfig) -> int:
    """Counted by hand: embeddings, n_layers blocks, final norm, and the head unless it is tied."""
    C, V = cfg.emb_dim, cfg.vocab_size
    attention = 3 * C * C + (3 * C if cfg.qkv_bias else 0) + C * C + C  # q, k, v (+ biases), out_proj
    feed_forward = C * 4 * C + 4 * C + 4 * C * C + C  # fc and proj, with biases
    norms = 2 * 2 * C  # two LayerNorms, weight and bias each
    head = 0 if cfg.tie_embeddings else V * C
    return V * C + cfg.context_length * C + cfg.n_layers * (attention + feed_forward + norms) + 2 * C + head


def meta_model(cfg: GPTConfig) -> GPTModel:
    with torch.device("meta"):  # shapes only, no memory: even the 1558M model is instant
        return GPTModel(cfg)


def test_logits_shape_and_last_only():
    torch.manual_seed(0)
    model = GPTModel(CFG).eval()
    token_ids = torch.randint(0, CFG.vocab_size, (3, 9))
    logits = model(token_ids)
    assert logits.shape == (3, 9, CFG.vocab_size)
    torch.testing.assert_close(model(token_ids, last_only=True), logits[:, -1:], atol=1e-6, rtol=0)


def test_model_is_causal():
    torch.manual_seed(0)
    model = GPTModel(CFG).eval()
    token_ids = torch.randint(0, CFG.vocab_size, (1, 10))
    changed = token_ids.clone()
    changed[0, 7] = (changed[0, 7] + 1) % CFG.vocab_size
    a, b = model(token_ids), model(changed)
    assert torch.equal(a[:, :7], b[:, :7])
    assert not torch.equal(a[:, 7:], b[:, 7:])


def test_tied_head_is_the_token_table():
    tied, untied = GPTModel(CFG), GPTModel(CFG.with_(tie_embeddings=False))
    assert tied.out_head.weight is tied.emb.tok_emb.weight
    assert untied.out_head.weight is not untied.emb.tok_emb.weight
    assert count_parameters(untied) - count_parameters(tied) == CFG.vocab_size * CFG.emb_dim


@pytest.mark.parametrize("cfg", [CFG, CFG.with_(qkv_bias=False, tie_embeddings=False), GPT2_124M, GPT2_1558M])
def test_parameter_count_matches_the_hand_count(cfg):
    assert count_parameters(meta_model(cfg)) == expected_parameter_count(cfg)


@pytest.mark.parametrize("cfg, millions", [(GPT2_124M, 124), (GPT2_355M, 355), (GPT2_774M, 774), (GPT2_1558M, 1558)])
def test_gpt2_presets_have_their_published_size(cfg, millions):
    """GPT-2's sizes are counted with the output head tied to the token embedding."""
    assert round(count_parameters(meta_model(cfg)) / 1e6) == millions


def test_gpt2_small_exact_counts_tied_and_untied():
    assert count_parameters(meta_model(GPT2_124M)) == 124_439_808
    assert count_parameters(meta_model(GPT2_124M.with_(tie_embeddings=False))) == 163_037_184


def test_parameter_memory_is_four_bytes_each_in_float32_and_two_in_bfloat16():
    model = GPTModel(CFG)
    assert parameter_memory_mib(model) == count_parameters(model) * 4 / 2**20
    assert parameter_memory_mib(model.to(torch.bfloat16)) == count_parameters(model) * 2 / 2**20


def test_count_trainable_only():
    model = GPTModel(CFG)
    model.emb.requires_grad_(False)
    frozen = sum(p.numel() for p in model.emb.parameters())
    assert count_parameters(model, trainable_only=True) == count_parameters(model) - frozen


def test_gpt2_initialization():
    torch.manual_seed(0)
    cfg = CFG.with_(n_layers=8, emb_dim=256, vocab_size=4000)
    model = GPTModel(cfg)
    assert abs(model.emb.tok_emb.weight.std().item() - 0.02) < 0.001
    assert abs(model.blocks[0].ff.fc.weight.std().item() - 0.02) < 0.001
    assert abs(model.blocks[0].ff.proj.weight.std().item() - 0.02 / math.sqrt(2 * 8)) < 0.0005
    assert abs(model.blocks[3].att.out_proj.weight.std().item() - 0.02 / math.sqrt(2 * 8)) < 0.0005
    assert all(not b.detach().any() for name, b in model.named_parameters() if name.endswith("bias"))
    assert torch.equal(model.final_norm.weight, torch.ones(256))


def test_untrained_model_predicts_nearly_uniformly():
    """With GPT-2's init the first loss is close to ln(vocab_size), the loss of a uniform guess."""
    torch.manual_seed(0)
    model = GPTModel(CFG.with_(vocab_size=4000)).eval()
    token_ids = torch.randint(0, 4000, (4, 16))
    logits = model(token_ids)
    loss = torch.nn.functional.cross_entropy(logits[:, :-1].flatten(0, 1), token_ids[:, 1:].flatten())
    assert abs(loss.item() - math.log(4000)) < 0.05


def test_dict_config_is_refused():
    with pytest.raises(TypeError, match=r"needs a GPTConfig, got dict; for a dict use GPTConfig\(\*\*d\)"):
        GPTModel({"vocab_size": 10})


@pytest.mark.parametrize(
    "token_ids, message",
    [
        (torch.tensor([[1, 97]]), r"token id 97 is outside the vocabulary \[0, 97\)"),
        (torch.tensor([[-3, 1]]), r"token id -3 is outside the vocabulary"),
        (torch.zeros(1, 17, dtype=torch.long), "input has 17 tokens but context_length is 16"),
        (torch.zeros(17, dtype=torch.long), r"shape \(batch, seq_len\)"),
    ],
)
def test_bad_input(token_ids, message):
    with pytest.raises(ValueError, match=message):
        GPTModel(CFG)(token_ids)


def test_emb_dim_not_divisible_by_n_heads_is_refused_before_building():
    with pytest.raises(ValueError, match="emb_dim=30 is not divisible by n_heads=4"):
        GPTModel(CFG.with_(emb_dim=30))
