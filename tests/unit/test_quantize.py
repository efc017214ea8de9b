"""quantize: per-channel int8 round trip, the three int8 kernels against dequantize-then-linear, whole models, the probe."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F

from llmscratch.model.batched import generate_batch
from llmscratch.model.config import TINY
from llmscratch.model.generate import generate
from llmscratch.model.gpt import GPTModel
from llmscratch.model.llama import LLAMA_TINY, LlamaModel
from llmscratch.weights import quantize as Q


def test_round_trip_error_is_at_most_half_a_step_per_value():
    torch.manual_seed(0)
    w = torch.randn(64, 96) * torch.logspace(-3, 1, 64).unsqueeze(1)  # rows of very different sizes
    w[5] = 0.0  # an all-zero row must not divide by zero
    q, scale = Q.quantize_per_channel(w)
    assert q.dtype == torch.int8 and scale.shape == (64,) and int(q.abs().max()) == 127
    err = (Q.dequantize_per_channel(q, scale) - w).abs()
    assert bool((err <= scale[:, None] / 2 * (1 + 1e-5)).all())
    assert bool((q[5] == 0).all())


def test_q8_0_blocks_follow_a_local_outlier_that_a_per_row_scale_cannot():
    torch.manual_seed(0)
    w = torch.randn(8, 128) * 0.02
    w[:, 3] = 2.0  # one outlier column: the per-row scale grows 30x for every value of the row
    per_row = (Q.dequantize_per_channel(*Q.quantize_per_channel(w)) - w).abs().mean()
    per_block = (Q.q8_0_roundtrip(w) - w).abs().mean()
    assert per_block < per_row / 2


@pytest.mark.parametrize(
    "bad, message", [(torch.zeros(3), "2-D"), (torch.tensor([[1.0, float("nan")]]), "NaN or inf")]
)
def test_quantize_bad_input(bad, message):
    with pytest.raises(ValueError, match=message):
        Q.quantize_per_channel(bad)


@pytest.mark.parametrize("kernel, rel_tol", [("dequant", 1e-6), ("int8pack", 2e-2), ("dynamic", 5e-2)])
@pytest.mark.parametrize("bias", [False, True])
def test_int8_linear_equals_dequantize_then_linear(kernel, rel_tol, bias):
    """dequant is the definition; int8pack rounds activations to bf16; dynamic also quantizes activations to 8 bits."""
    torch.manual_seed(0)
    linear = torch.nn.Linear(96, 80, bias=bias)
    layer = Q.Int8Linear.from_linear(linear, kernel=kernel)
    x = torch.randn(2, 5, 96)
    expected = F.linear(x, layer.dequantized_weight(), linear.bias)
    got = layer(x)
    assert got.shape == (2, 5, 80) and got.dtype == torch.float32
    assert (got - expected).abs().max() <= rel_tol * expected.abs().max()
    layer.drop_table()  # the dynamic kernel keeps its own packed copy; the others keep q
    assert torch.equal(layer.int8_table(), Q.quantize_per_channel(linear.weight)[0])


def test_int8_linear_bad_arguments():
    q, scale = Q.quantize_per_channel(torch.randn(4, 8))
    with pytest.raises(ValueError, match="kernel must be one of"):
        Q.Int8Linear(q, scale, kernel="fast")
    with pytest.raises(ValueError, match="need int8 q"):
        Q.Int8Linear(q.float(), scale)


MODELS = {
    "gpt-tied": lambda: GPTModel(
        TINY.with_(vocab_size=512, context_length=32, emb_dim=128, n_heads=4, drop_rate=0.0)
    ),
    "gpt-untied": lambda: GPTModel(
        TINY.with_(
            vocab_size=512,
            context_length=32,
            emb_dim=128,
            n_heads=4,
            drop_rate=0.0,
            tie_embeddings=False,
            qkv_bias=True,
        )
    ),
    "llama-tied": lambda: LlamaModel(LLAMA_TINY.with_(vocab_size=512, emb_dim=128, hidden_dim=320)),
}


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("kernel", Q.INT8_KERNELS)
def test_quantized_models_are_a_quarter_of_the_memory_and_close_to_fp32(name, kernel):
    torch.manual_seed(0)
    model = MODELS[name]().eval()
    ids = torch.randint(0, 512, (2, 12))
    with torch.no_grad():
        ref = model(ids)
    q = Q.quantize_for_generation(copy.deepcopy(model), "int8", kernel=kernel)
    assert not any(isinstance(m, torch.nn.Linear) for m in q.modules())
    assert Q.weight_bytes(q) <= 0.3 * Q.weight_bytes(model)
    with torch.no_grad():
        got = q(ids)
    assert (
        got - ref
    ).abs().max() <= 0.1 * ref.abs().max()  # random weights: loose, the benchmark measures real ones
    assert (got.argmax(-1) == ref.argmax(-1)).float().mean() >= 0.5
    owner = q.emb if name.startswith("gpt") else q
    assert isinstance(owner.tok_emb, Q.Int8Embedding)
    assert (owner.tok_emb.weight is q.out_head.q) == name.endswith("-tied")  # a tied table is stored once
    out = generate(q, ids, 5, attention_mask=torch.ones_like(ids))  # generation runs on it, batched too
    assert out.shape == (2, 17)
    assert generate_batch(q, [[1, 2, 3], [4]], 4) == [
        generate(q, torch.tensor([p]), 4)[0, len(p) :].tolist() for p in ([1, 2, 3], [4])
    ]


def test_bf16_and_fp32_formats():
    torch.manual_seed(0)
    model = MODELS["gpt-tied"]().eval()
    same = Q.quantize_for_generation(model, "fp32")
    assert same is model and next(model.parameters()).dtype == torch.float32
    half = Q.quantize_for_generation(copy.deepcopy(model), "bf16")
    param_bytes = lambda m: sum(p.numel() * p.element_size() for p in m.parameters())
    assert next(half.parameters()).dtype == torch.bfloat16 and param_bytes(half) == param_bytes(model) // 2
    assert generate(half, torch.tensor([[1, 2]]), 3).shape == (1, 5)
    with pytest.raises(ValueError, match="weight_format must be one of"):
        Q.quantize_for_generation(model, "int4")


def test_the_probe_is_overridable_measures_once_and_says_what_it_chose(monkeypatch, capsys):
    torch.manual_seed(0)
    model = MODELS["llama-tied"]().eval()
    assert Q.choose_weight_format(model, weight_format="bf16") == ("bf16", "dynamic")
    assert "weight format: bf16 (set by argument, no probe)" in capsys.readouterr().out
    monkeypatch.setenv("LLMSCRATCH_WEIGHT_FORMAT", "INT8")
    assert Q.choose_weight_format(model)[0] == "int8"
    assert "set by LLMSCRATCH_WEIGHT_FORMAT" in capsys.readouterr().out
    monkeypatch.setenv("LLMSCRATCH_WEIGHT_FORMAT", "fp64")
    with pytest.raises(ValueError, match="weight_format must be 'auto' or one of"):
        Q.choose_weight_format(model)
    monkeypatch.delenv("LLMSCRATCH_WEIGHT_FORMAT")
    monkeypatch.setattr(Q, "_CHOICES", {})
    calls = []
    real = Q._decode_seconds
    monkeypatch.setattr(Q, "_decode_seconds", lambda m, *a: calls.append(m) or real(m, *a))
    fmt, kernel = Q.choose_weight_format(model, steps=2, rounds=1)
    line = capsys.readouterr().out
    assert fmt in Q.WEIGHT_FORMATS and kernel in Q.INT8_KERNELS
    assert line.count("weight format:") == 1 and "speed vs fp32: fp32 1.00x" in line
    assert len(calls) >= 3  # fp32, bf16 and at least one int8 kernel were timed
    assert Q.choose_weight_format(model, steps=2, rounds=1) == (fmt, kernel) and len(calls) <= 4  # remembered
    assert capsys.readouterr().out == ""


def test_a_probe_that_finds_nothing_faster_keeps_fp32(monkeypatch):
    model = MODELS["gpt-tied"]().eval()
    monkeypatch.setattr(Q, "_CHOICES", {})
    # fp32 is timed first; every other format is made to look 2% faster: within the 5% margin, so fp32 stays
    times = iter([1.0] + [0.98] * 5)
    monkeypatch.setattr(Q, "_decode_seconds", lambda *a: next(times))
    assert Q.choose_weight_format(model, verbose=False)[0] == "fp32"
    monkeypatch.setattr(Q, "_CHOICES", {})
    times = iter([1.0, 0.9, 0.5, 0.7])  # fp32, bf16, int8 dynamic, int8 int8pack
    monkeypatch.setattr(Q, "_decode_seconds", lambda *a: next(times))
    assert Q.choose_weight_format(model, verbose=False) == ("int8", "dynamic")
