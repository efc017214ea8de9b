"""quantize: per-channel int8 round trip, the three int8 kernels and the default one, whole models, memory."""

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


def test_the_default_kernel_is_weight_only_int8pack(monkeypatch):
    """Where aten._weight_int8pack_mm runs (torch >= 2.3 on CPU), a layer or a model gets it unless told otherwise."""
    monkeypatch.setattr(Q, "_DEFAULT_KERNEL", {})
    assert Q.default_int8_kernel() == "int8pack"
    assert Q.Int8Linear.from_linear(torch.nn.Linear(8, 4)).kernel == "int8pack"
    model = Q.quantize_for_generation(MODELS["gpt-untied"]().eval())
    assert {m.kernel for m in model.modules() if isinstance(m, Q.Int8Linear)} == {"int8pack"}
    explicit = Q.quantize_for_generation(MODELS["gpt-untied"]().eval(), kernel="dynamic")
    assert {m.kernel for m in explicit.modules() if isinstance(m, Q.Int8Linear)} == {"dynamic"}


def test_without_int8pack_the_default_falls_back_to_dequant_and_says_so(monkeypatch):
    monkeypatch.setattr(Q, "_DEFAULT_KERNEL", {})

    def missing(device):
        raise RuntimeError("Could not run 'aten::_weight_int8pack_mm' with arguments from the 'CPU' backend")

    monkeypatch.setattr(Q, "_try_int8pack", missing)
    with pytest.warns(UserWarning, match="falls back to the exact but slow 'dequant'"):
        assert Q.default_int8_kernel("cpu") == "dequant"
    layer = Q.Int8Linear.from_linear(torch.nn.Linear(8, 4))  # decided once: no second warning
    assert layer.kernel == "dequant"


def test_int8pack_rows_do_not_depend_on_each_other_but_dynamic_rows_do():
    """Weight-only int8 treats each row alone, so a batch gives each prompt its own result; ``dynamic``
    quantizes the whole input with one scale, so a loud row coarsens its neighbours (one reason it is opt-in)."""
    torch.manual_seed(0)
    linear = torch.nn.Linear(64, 32)
    x = torch.randn(1, 64)
    batch = torch.cat([x, 100 * torch.randn(1, 64)])  # (2, 64): a second row 100x larger
    for kernel, independent in (("int8pack", True), ("dynamic", False)):
        layer = Q.Int8Linear.from_linear(linear, kernel=kernel)
        assert torch.equal(layer(batch)[:1], layer(x)) == independent, kernel


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
