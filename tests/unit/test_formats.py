"""formats: the measured choice of weight format (overrides, memory of the choice, never ``dynamic``) and greedy agreement."""

from __future__ import annotations

import pytest
import torch

from llmscratch.model.config import TINY
from llmscratch.model.generate import generate
from llmscratch.model.gpt import GPTModel
from llmscratch.model.llama import LLAMA_TINY, LlamaModel
from llmscratch.weights import formats as F
from llmscratch.weights import quantize as Q


def _gpt():
    return GPTModel(TINY.with_(vocab_size=512, context_length=32, emb_dim=128, n_heads=4, drop_rate=0.0))


def _llama():
    return LlamaModel(LLAMA_TINY.with_(vocab_size=512, emb_dim=128, hidden_dim=320))


def test_the_probe_is_overridable_measures_once_and_says_what_it_chose(monkeypatch, capsys):
    torch.manual_seed(0)
    model = _llama().eval()
    assert F.choose_weight_format(model, weight_format="bf16") == ("bf16", "int8pack")
    assert "weight format: bf16 (set by argument, no probe)" in capsys.readouterr().out
    monkeypatch.setenv("LLMSCRATCH_WEIGHT_FORMAT", "INT8")
    assert F.choose_weight_format(model)[0] == "int8"
    assert "set by LLMSCRATCH_WEIGHT_FORMAT" in capsys.readouterr().out
    monkeypatch.setenv("LLMSCRATCH_WEIGHT_FORMAT", "fp64")
    with pytest.raises(ValueError, match="weight_format must be 'auto' or one of"):
        F.choose_weight_format(model)
    monkeypatch.delenv("LLMSCRATCH_WEIGHT_FORMAT")
    monkeypatch.setattr(F, "_CHOICES", {})
    calls = []
    real = F._decode_seconds
    monkeypatch.setattr(F, "_decode_seconds", lambda m, *a: calls.append(m) or real(m, *a))
    fmt, kernel = F.choose_weight_format(model, steps=2, rounds=1)
    line = capsys.readouterr().out
    assert fmt in Q.WEIGHT_FORMATS and kernel in Q.INT8_KERNELS
    assert line.count("weight format:") == 1 and "speed vs fp32: fp32 1.00x" in line
    assert len(calls) == 3  # fp32, bf16 and int8 (int8pack) were timed
    assert F.choose_weight_format(model, steps=2, rounds=1) == (fmt, kernel) and len(calls) == 3  # remembered
    assert capsys.readouterr().out == ""


def test_a_probe_that_finds_nothing_faster_keeps_fp32(monkeypatch):
    model = _gpt().eval()
    monkeypatch.setattr(F, "_CHOICES", {})
    # fp32 is timed first; every other format is made to look 2% faster: within the 5% margin, so fp32 stays
    times = iter([1.0] + [0.98] * 2)
    monkeypatch.setattr(F, "_decode_seconds", lambda *a: next(times))
    assert F.choose_weight_format(model, verbose=False)[0] == "fp32"
    for timed, choice in (([1.0, 0.9, 0.5], ("int8", "int8pack")), ([1.0, 0.5, 0.7], ("bf16", "int8pack"))):
        monkeypatch.setattr(F, "_CHOICES", {})
        times = iter(timed)  # fp32, bf16, int8 (int8pack)
        monkeypatch.setattr(F, "_decode_seconds", lambda *a, times=times: next(times))
        assert F.choose_weight_format(model, verbose=False) == choice


def test_the_probe_never_considers_the_dynamic_kernel(monkeypatch, capsys):
    """``dynamic`` is the fastest int8 kernel on VNNI CPUs but the least faithful: a speed probe must not see it."""
    model = _gpt().eval()
    monkeypatch.setattr(F, "_CHOICES", {})
    monkeypatch.setattr(
        F,
        "_decode_seconds",
        lambda m, *a: 0.1 if any(getattr(x, "kernel", None) == "dynamic" for x in m.modules()) else 1.0,
    )
    tried = []
    real = Q.quantize_for_generation
    monkeypatch.setattr(
        F,
        "quantize_for_generation",
        lambda m, fmt, kernel=None: tried.append((fmt, kernel)) or real(m, fmt, kernel=kernel),
    )
    assert F.choose_weight_format(model, steps=1, rounds=1) == ("fp32", "int8pack")
    assert ("int8", "int8pack") in tried and all(kernel != "dynamic" for _, kernel in tried)
    assert "dynamic" not in capsys.readouterr().out


def test_greedy_agreement_follows_the_reference_tokens():
    torch.manual_seed(0)
    model = _llama().eval()
    prompt = torch.tensor([[5, 6, 7]])
    ref = generate(model, prompt, 10)[0, 3:]  # (10,): the model's own greedy tokens
    assert F.greedy_agreement(model, prompt, ref) == F.GreedyAgreement(10, 10, 10)
    wrong = ref.clone()
    wrong[4] = (wrong[4] + 1) % 512  # a token the model would not pick: the first disagreement is step 4
    got = F.greedy_agreement(model, prompt, wrong)
    assert got.identical_prefix == 4 and got.agreed <= 9 and got.new_tokens == 10
    with pytest.raises(ValueError, match="one prompt of shape"):
        F.greedy_agreement(model, torch.tensor([[1], [2]]), ref)
    with pytest.raises(ValueError, match="exceed context_length"):
        F.greedy_agreement(model, prompt, torch.zeros(model.cfg.context_length, dtype=torch.long))


def test_greedy_agreement_is_teacher_forcing_through_the_cache():
    """After a token the model would not pick, it goes on from the reference's token, not from its own:
    its picks are those of one full forward pass over the reference (a random tied model copies its input,
    so each planted token costs two agreements; fed its own picks instead, it would lose only one)."""
    torch.manual_seed(0)
    model = _llama().eval()
    prompt = torch.tensor([[5, 6, 7]])
    ref = generate(model, prompt, 12)[0, 3:].clone()  # (12,): its own greedy tokens...
    ref[[3, 8]] = torch.tensor([100, 200])  # ...with two it would not have picked
    with torch.no_grad():
        picks = model(torch.cat([prompt[0], ref]).unsqueeze(0))[0, 2:-1].argmax(-1)  # (12,)
    hits = picks == ref
    assert 0 < int(hits.sum()) <= 10
    got = F.greedy_agreement(model, prompt, ref)
    assert got.agreed == int(hits.sum()) and got.identical_prefix == 3
