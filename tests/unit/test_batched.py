"""batched: a list of prompts generated together gives every prompt what it gets alone (GPT and Llama)."""

from __future__ import annotations

import pytest
import torch

from llmscratch.model.batched import generate_batch, left_pad
from llmscratch.model.config import TINY
from llmscratch.model.generate import generate
from llmscratch.model.gpt import GPTModel
from llmscratch.model.llama import LLAMA_TINY, LlamaModel

# Untied GPT: a random-init model with a tied head mostly repeats its last token (see test_generate.py).
GPT_CFG = TINY.with_(vocab_size=97, context_length=24, emb_dim=32, n_heads=4, tie_embeddings=False)
LLAMA_CFG = LLAMA_TINY.with_(vocab_size=97, context_length=24, tie_embeddings=False)
LENGTHS = (7, 2, 5, 1, 9, 3)  # ragged on purpose


def make_model(family: str):
    torch.manual_seed(0)
    return (GPTModel(GPT_CFG) if family == "gpt" else LlamaModel(LLAMA_CFG)).eval()


def make_prompts(seed: int = 1) -> list[list[int]]:
    g = torch.Generator().manual_seed(seed)
    return [torch.randint(0, 97, (n,), generator=g).tolist() for n in LENGTHS]


def alone(model, prompt, n, **kwargs) -> list[int]:
    """What ``generate`` gives one prompt on its own, cut after the first eos."""
    out = generate(model, torch.tensor([prompt]), n, **kwargs)[0, len(prompt) :].tolist()
    eos = kwargs.get("eos_id")
    return out[: out.index(eos) + 1] if eos is not None and eos in out else out


def pick_eos(model, prompts, n):
    """A token that ends some rows early and not others, so the test sees both."""
    free = [alone(model, p, n) for p in prompts]
    for candidate in (free[0][2], free[1][1], free[2][3], free[3][0]):
        stops = [candidate in f for f in free]
        if any(stops) and not all(stops):
            return candidate
    pytest.fail("no token ends some rows but not others; change the seed")


@pytest.mark.parametrize("family", ["gpt", "llama"])
@pytest.mark.parametrize("batch_size", [1, 4, 16])
def test_every_row_of_a_greedy_batch_equals_the_prompt_alone(family, batch_size):
    model, prompts = make_model(family), make_prompts()
    eos = pick_eos(model, prompts, 12)
    expected = [alone(model, p, 12, eos_id=eos) for p in prompts]
    assert any(len(e) < 12 for e in expected) and any(len(e) == 12 and eos not in e for e in expected)
    assert generate_batch(model, prompts, 12, batch_size=batch_size, eos_id=eos) == expected


@pytest.mark.parametrize("family", ["gpt", "llama"])
def test_without_eos_rows_run_to_max_new_tokens(family):
    model, prompts = make_model(family), make_prompts(2)
    got = generate_batch(model, prompts, 9, batch_size=6)
    assert got == [alone(model, p, 9) for p in prompts] and all(len(g) == 9 for g in got)


def test_finished_rows_leave_the_batch():
    """Rows that produced eos stop costing work: later forward passes get fewer rows (and results do not change)."""
    model, prompts = make_model("gpt"), make_prompts()
    eos = pick_eos(model, prompts, 12)
    rows_per_pass = []
    hook = model.register_forward_pre_hook(lambda m, args: rows_per_pass.append(args[0].shape[0]))
    try:
        got = generate_batch(model, prompts, 12, batch_size=len(prompts), eos_id=eos)
    finally:
        hook.remove()
    n_early = sum(len(g) < 12 or g[-1] == eos for g in got)
    assert rows_per_pass[0] == len(prompts) and rows_per_pass[-1] == len(prompts) - n_early
    assert rows_per_pass == sorted(rows_per_pass, reverse=True)


@pytest.mark.parametrize("family", ["gpt", "llama"])
def test_dropping_rows_past_the_context_window_still_matches(family):
    """Rows longer than the window slide it (the cache is rebuilt); dropping rows then must not break that."""
    model = make_model(family)
    g = torch.Generator().manual_seed(5)
    prompts = [torch.randint(0, 97, (n,), generator=g).tolist() for n in (20, 3, 23, 11)]
    eos = pick_eos(model, prompts, 10)
    expected = [alone(model, p, 10, eos_id=eos) for p in prompts]
    assert generate_batch(model, prompts, 10, batch_size=4, eos_id=eos) == expected


@pytest.mark.parametrize("family", ["gpt", "llama"])
def test_seeded_sampling_is_reproducible_and_independent_of_the_batch(family):
    model, prompts = make_model(family), make_prompts(3)
    kwargs = {"temperature": 1.3, "top_k": 30, "top_p": 0.95}
    first = generate_batch(model, prompts, 10, batch_size=6, seed=7, **kwargs)
    assert generate_batch(model, prompts, 10, batch_size=6, seed=7, **kwargs) == first
    assert (
        generate_batch(model, prompts, 10, batch_size=2, seed=7, **kwargs) == first
    )  # other batch compositions
    assert (
        generate_batch(model, prompts[::-1], 10, batch_size=6, seed=[7 + i for i in range(6)][::-1], **kwargs)
        == first[::-1]
    )
    for i, p in enumerate(prompts):  # each prompt samples what it samples alone with its seed
        assert first[i] == alone(model, p, 10, generator=torch.Generator().manual_seed(7 + i), **kwargs)
    assert generate_batch(model, prompts, 10, batch_size=6, seed=8, **kwargs) != first


def test_left_pad_and_bad_input():
    ids, mask = left_pad([[1, 2], [3, 4, 5]], pad_id=9)
    assert ids.tolist() == [[9, 1, 2], [3, 4, 5]] and mask.tolist() == [[0, 1, 1], [1, 1, 1]]
    with pytest.raises(ValueError, match="prompt 1 is empty"):
        left_pad([[1], []])
    with pytest.raises(ValueError, match="no prompts given"):
        left_pad([])
    model = make_model("gpt")
    with pytest.raises(ValueError, match="batch_size must be at least 1, got 0"):
        generate_batch(model, [[1]], 3, batch_size=0)
    with pytest.raises(ValueError, match="got 1 seeds for 2 prompts"):
        generate_batch(model, [[1], [2]], 3, temperature=1.0, seed=[1])
    with pytest.raises(ValueError, match=r"a list of one per row \(2\), got 1 items"):
        generate(model, torch.tensor([[1], [2]]), 3, temperature=1.0, generator=[torch.Generator()])
