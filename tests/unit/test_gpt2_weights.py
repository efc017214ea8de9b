"""weights: the GPT-2 key map, both directions, without transformers (the equivalence test uses it).

Round trips ours -> GPT-2 layout -> ours must reproduce every tensor; the layout itself (Conv1D
transposes, fused q/k/v, tied head, prefixes, old mask buffers) is checked tensor by tensor; and
every kind of bad checkpoint fails naming the key and both shapes.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from llmscratch.model.config import TINY
from llmscratch.model.gpt import GPTModel
from llmscratch.weights.gpt2 import (
    config_from_hf,
    hf_config_kwargs,
    key_map,
    load_gpt2_state_dict,
    to_gpt2_state_dict,
)

CFG = TINY.with_(vocab_size=97, context_length=16, emb_dim=32, n_heads=4, drop_rate=0.0)


def fresh(cfg=CFG, seed=0):
    torch.manual_seed(seed)
    return GPTModel(cfg).eval()


@pytest.mark.parametrize("cfg", [CFG, CFG.with_(tie_embeddings=False), CFG.with_(qkv_bias=False)])
def test_round_trip_reproduces_every_tensor(cfg):
    source, target = fresh(cfg, seed=1), fresh(cfg, seed=2)
    load_gpt2_state_dict(target, to_gpt2_state_dict(source))
    for key, tensor in source.state_dict().items():
        assert torch.equal(target.state_dict()[key], tensor), key
    token_ids = torch.randint(0, cfg.vocab_size, (2, 8))
    assert torch.equal(target(token_ids), source(token_ids))


def test_export_layout():
    model = fresh()
    hf = to_gpt2_state_dict(model)
    block = model.blocks[1]
    # Conv1D weights are (in, out): the transposes of nn.Linear's (out, in).
    assert hf["transformer.h.1.mlp.c_fc.weight"].shape == (32, 128)
    assert torch.equal(hf["transformer.h.1.mlp.c_fc.weight"], block.ff.fc.weight.T)
    assert torch.equal(hf["transformer.h.1.attn.c_proj.weight"], block.att.out_proj.weight.T)
    # c_attn's output columns are [q | k | v].
    fused = hf["transformer.h.1.attn.c_attn.weight"]  # (C, 3C)
    assert fused.shape == (32, 96)
    assert torch.equal(fused[:, 32:64], block.att.W_key.weight.T)
    assert torch.equal(hf["transformer.h.1.attn.c_attn.bias"][64:], block.att.W_value.bias)
    assert torch.equal(hf["lm_head.weight"], hf["transformer.wte.weight"])  # tied
    assert all(t.is_contiguous() for t in hf.values())  # safetensors-ready


def test_every_model_tensor_is_covered_by_the_map():
    mapped = {ours for _, ours, _ in key_map(CFG.n_layers)}
    qkv = {
        f"blocks.{i}.att.{n}.{p}"
        for i in range(CFG.n_layers)
        for n in ("W_query", "W_key", "W_value")
        for p in ("weight", "bias")
    }
    assert set(fresh().state_dict()) == mapped | qkv | {"out_head.weight"}


def test_bias_free_model_exports_zero_biases_and_loads_them_back():
    model = fresh(CFG.with_(qkv_bias=False))
    hf = to_gpt2_state_dict(model)
    assert not hf["transformer.h.0.attn.c_attn.bias"].any()
    load_gpt2_state_dict(fresh(CFG.with_(qkv_bias=False), seed=5), hf)


def test_accepts_bare_names_and_skips_old_mask_buffers():
    hf = {k.removeprefix("transformer."): v for k, v in to_gpt2_state_dict(fresh(seed=1)).items()}
    del hf["lm_head.weight"]  # a tied checkpoint may leave it out
    hf["h.0.attn.bias"] = torch.ones(1, 1, 16, 16)  # causal-mask buffers saved by old transformers
    hf["h.0.attn.masked_bias"] = torch.tensor(-1e4)
    model = load_gpt2_state_dict(fresh(seed=2), hf)
    assert torch.equal(model.out_head.weight, hf["wte.weight"])


def test_untied_model_gets_its_own_head_or_a_copy_of_wte():
    hf = to_gpt2_state_dict(fresh(CFG.with_(tie_embeddings=False), seed=1))
    model = load_gpt2_state_dict(fresh(CFG.with_(tie_embeddings=False), seed=2), hf)
    assert torch.equal(model.out_head.weight, hf["lm_head.weight"])
    del hf["lm_head.weight"]
    model = load_gpt2_state_dict(model, hf)
    assert torch.equal(model.out_head.weight, hf["transformer.wte.weight"])
    assert model.out_head.weight.data_ptr() != model.emb.tok_emb.weight.data_ptr()


def test_missing_tensor_names_the_key():
    hf = to_gpt2_state_dict(fresh())
    del hf["transformer.h.1.ln_2.bias"]
    with pytest.raises(KeyError, match=r"no 'h.1.ln_2.bias' \(needed for 'blocks.1.norm2.bias'\)"):
        load_gpt2_state_dict(fresh(), hf)


@pytest.mark.parametrize(
    "key, bad_shape, message",
    [
        (
            "transformer.h.0.mlp.c_fc.weight",
            (128, 32),
            r"'h.0.mlp.c_fc.weight' has shape \(128, 32\) but the model needs \(32, 128\)",
        ),
        (
            "transformer.h.1.attn.c_attn.weight",
            (32, 64),
            r"'h.1.attn.c_attn.weight' has shape \(32, 64\) but the model needs \(32, 96\)",
        ),
        (
            "transformer.wpe.weight",
            (1024, 32),
            r"'wpe.weight' has shape \(1024, 32\) but the model needs \(16, 32\)",
        ),
        ("lm_head.weight", (98, 32), r"'lm_head.weight' has shape \(98, 32\) but the model needs \(97, 32\)"),
    ],
)
def test_mis_shaped_tensor_names_the_key_and_both_shapes(key, bad_shape, message):
    hf = to_gpt2_state_dict(fresh())
    hf[key] = torch.zeros(bad_shape)
    with pytest.raises(ValueError, match=message):
        load_gpt2_state_dict(fresh(), hf)


def test_deeper_checkpoint_is_refused():
    hf = to_gpt2_state_dict(fresh(CFG.with_(n_layers=3)))
    with pytest.raises(
        ValueError, match=r"tensor\(s\) the model has no place for, e.g. \['h.2.attn.c_attn.bias'.*n_layers=2"
    ):
        load_gpt2_state_dict(fresh(), hf)


def test_biases_into_a_bias_free_model_are_refused():
    hf = to_gpt2_state_dict(fresh())  # freshly initialized biases are 0, which a bias-free model can take
    hf["transformer.h.1.attn.c_attn.bias"][5] = 0.1
    with pytest.raises(
        ValueError,
        match=r"'h.1.attn.c_attn.bias' holds q/k/v biases but the model was built with qkv_bias=False",
    ):
        load_gpt2_state_dict(fresh(CFG.with_(qkv_bias=False)), hf)


def test_separate_head_into_a_tied_model_is_refused():
    hf = to_gpt2_state_dict(fresh(CFG.with_(tie_embeddings=False)))
    with pytest.raises(ValueError, match=r"lm_head.weight differs from wte.weight but the model ties"):
        load_gpt2_state_dict(fresh(), hf)


def test_failed_load_leaves_the_model_untouched():
    model = fresh(seed=3)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    hf = to_gpt2_state_dict(fresh(seed=4))
    hf["transformer.ln_f.bias"] = torch.zeros(33)
    with pytest.raises(ValueError, match=r"'ln_f.bias' has shape \(33,\) but the model needs"):
        load_gpt2_state_dict(model, hf)
    assert all(torch.equal(model.state_dict()[k], v) for k, v in before.items())


def test_config_round_trip():
    for cfg in (CFG, CFG.with_(tie_embeddings=False, drop_rate=0.2)):
        assert config_from_hf(SimpleNamespace(**hf_config_kwargs(cfg))) == cfg


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(activation_function="relu"), "activation_function='relu'"),
        (dict(layer_norm_epsilon=1e-6), "layer_norm_epsilon=1e-06"),
        (dict(n_inner=100), "n_inner=100"),
        (dict(scale_attn_by_inverse_layer_idx=True), "scale_attn_by_inverse_layer_idx=True"),
    ],
)
def test_config_variants_we_do_not_compute_are_refused(change, message):
    with pytest.raises(ValueError, match=message):
        config_from_hf(SimpleNamespace(**{**hf_config_kwargs(CFG), **change}))
