"""generate: greedy decoding with and without the KV cache, sampling, the context window, bad input."""

from __future__ import annotations

import pytest
import torch

from llmscratch.model.config import TINY
from llmscratch.model.generate import generate, generate_stream, next_token
from llmscratch.model.gpt import GPTModel
from llmscratch.model.kv_cache import KVCache

# Untied: a random-init model with a tied head mostly repeats its last token, which would make
# "same tokens" comparisons nearly meaningless; an untied one wanders through the vocabulary.
CFG = TINY.with_(vocab_size=97, context_length=16, emb_dim=32, n_heads=4, tie_embeddings=False)


def reference_greedy(model, token_ids, max_new_tokens):
    """The textbook loop, written independently: full forward, argmax of the last row, append."""
    model.eval()
    for _ in range(max_new_tokens):
        logits = model(token_ids[:, -model.cfg.context_length :])  # (B, T, V)
        token_ids = torch.cat([token_ids, logits[:, -1].argmax(dim=-1, keepdim=True)], dim=1)
    return token_ids


@pytest.fixture
def model():
    torch.manual_seed(0)
    return GPTModel(CFG).eval()


@pytest.mark.parametrize(
    "prompt_len, max_new_tokens",
    [(1, 10), (5, 11), (5, 30), (16, 5), (23, 6)],  # within the window, filling it, sliding, too-long prompt
)
@pytest.mark.parametrize("use_cache", [False, True])
def test_greedy_equals_the_textbook_loop(model, prompt_len, max_new_tokens, use_cache):
    torch.manual_seed(1)
    prompt = torch.randint(0, CFG.vocab_size, (2, prompt_len))
    out = generate(model, prompt, max_new_tokens, use_cache=use_cache)
    assert out.shape == (2, prompt_len + max_new_tokens)
    assert torch.equal(
        out[:, :prompt_len], prompt
    )  # the whole prompt is kept, even when cropped for the model
    assert torch.equal(out, reference_greedy(model, prompt, max_new_tokens))


@pytest.mark.parametrize("seed", range(5))
def test_kv_cache_gives_exactly_the_cache_free_tokens(seed):
    torch.manual_seed(seed)
    model = GPTModel(CFG.with_(n_layers=3, qkv_bias=seed % 2 == 0)).eval()
    prompt = torch.randint(0, CFG.vocab_size, (3, 1 + seed))
    assert torch.equal(
        generate(model, prompt, 25, use_cache=True), generate(model, prompt, 25, use_cache=False)
    )


def test_sampling_with_the_cache_equals_sampling_without():
    torch.manual_seed(0)
    model = GPTModel(CFG).eval()
    prompt = torch.randint(0, CFG.vocab_size, (2, 4))
    kwargs = dict(temperature=1.5, top_k=20, top_p=0.9)
    a = generate(model, prompt, 20, use_cache=True, generator=torch.Generator().manual_seed(3), **kwargs)
    b = generate(model, prompt, 20, use_cache=False, generator=torch.Generator().manual_seed(3), **kwargs)
    assert torch.equal(a, b)
    c = generate(model, prompt, 20, use_cache=True, generator=torch.Generator().manual_seed(4), **kwargs)
    assert not torch.equal(a, c)


def test_zero_new_tokens_returns_the_prompt(model):
    prompt = torch.tensor([[1, 2, 3]])
    assert torch.equal(generate(model, prompt, 0), prompt)


def test_dropout_is_off_while_generating_and_the_mode_is_restored():
    torch.manual_seed(0)
    model = GPTModel(CFG.with_(drop_rate=0.5)).train()
    prompt = torch.tensor([[5, 6, 7]])
    first = generate(model, prompt, 8)
    assert model.training
    assert torch.equal(generate(model, prompt, 8), first)  # no dropout noise
    assert torch.equal(first, reference_greedy(model, prompt, 8))


def test_eos_pads_finished_rows_and_stops_when_all_are_done(model):
    prompt = torch.tensor([[3, 4], [50, 60]])
    free = generate(model, prompt, 6)
    eos = int(free[0, 2])  # pretend row 0's first new token ends its text
    out = generate(model, prompt, 6, eos_id=eos)
    # Expected, row by row: the free-running tokens up to the first eos, then eos padding.
    expected = free.clone()
    ends = []
    for row in range(2):
        hits = (free[row, 2:] == eos).nonzero()
        end = 2 + int(hits[0]) if len(hits) else free.shape[1]
        expected[row, end:] = eos
        ends.append(end)
    length = max(ends) + 1 if max(ends) < free.shape[1] else free.shape[1]
    assert torch.equal(out, expected[:, :length])
    assert torch.equal(out[0, 2:], torch.full((length - 2,), eos))
    single = generate(model, prompt[:1], 6, eos_id=eos)
    assert torch.equal(single, free[:1, :3])  # stopped right after its eos


def test_next_token_greedy_and_limits():
    logits = torch.tensor([[1.0, 3.0, 2.0, -1.0]])
    assert next_token(logits).item() == 1
    gen = torch.Generator().manual_seed(0)
    assert next_token(logits, temperature=5.0, top_k=1, generator=gen).item() == 1  # top-1 is greedy
    picks = {next_token(logits, temperature=10.0, top_k=2, generator=gen).item() for _ in range(200)}
    assert picks == {1, 2}  # only the two best ever come out, and both do
    probs_logits = torch.log(torch.tensor([[0.5, 0.3, 0.2]]))
    assert {
        next_token(probs_logits, temperature=1.0, top_p=0.5, generator=gen).item() for _ in range(100)
    } == {0}
    assert {
        next_token(probs_logits, temperature=1.0, top_p=0.6, generator=gen).item() for _ in range(200)
    } == {0, 1}
    assert {next_token(probs_logits, temperature=1.0, generator=gen).item() for _ in range(300)} == {0, 1, 2}


def test_top_p_on_logits_that_are_not_sorted():
    """The keep-set is found in sorted order and must be mapped back to vocabulary order.

    Row 0: probabilities 0.1, 0.05, 0.5, 0.15, 0.2. Sorted: 0.5 (id 2), 0.2 (id 4), 0.15 (id 3) ...
    With top_p=0.7 id 2 stays (nothing before it), id 4 stays (0.5 before it), id 3 goes (0.7 before
    it reaches 0.7): the kept ids are {2, 4}, sampled 5:2. Row 1 is the same values in another order.
    """
    probs = torch.tensor([[0.1, 0.05, 0.5, 0.15, 0.2], [0.2, 0.5, 0.05, 0.1, 0.15]])
    gen = torch.Generator().manual_seed(0)
    picks = torch.cat(
        [next_token(probs.log(), temperature=1.0, top_p=0.7, generator=gen) for _ in range(2000)], dim=1
    )
    assert set(picks[0].tolist()) == {2, 4} and set(picks[1].tolist()) == {1, 0}
    share = (picks[0] == 2).float().mean().item()
    assert abs(share - 0.5 / 0.7) < 0.04, share  # renormalised over the kept tokens


def test_low_temperature_approaches_greedy_and_high_flattens():
    logits = torch.tensor([[0.0, 1.0, 0.5]])
    gen = torch.Generator().manual_seed(0)
    cold = [next_token(logits, temperature=0.01, generator=gen).item() for _ in range(100)]
    assert set(cold) == {1}
    hot = torch.tensor([next_token(logits, temperature=100.0, generator=gen).item() for _ in range(3000)])
    shares = torch.bincount(hot, minlength=3) / 3000
    assert (shares - 1 / 3).abs().max() < 0.05


@pytest.mark.parametrize(
    "token_ids, kwargs, message",
    [
        (
            torch.tensor([1, 2]),
            {},
            r"\(batch, seq_len\) tensor, got \(2,\); for one prompt use ids.unsqueeze\(0\)",
        ),
        ([[1, 2]], {}, r"\(batch, seq_len\) tensor, got list"),
        (torch.zeros(1, 0, dtype=torch.long), {}, "the prompt is empty"),
        (torch.tensor([[1]]), {"max_new_tokens": -1}, "max_new_tokens must be >= 0, got -1"),
        (
            torch.tensor([[1]]),
            {"temperature": -0.5},
            r"temperature must be a number >= 0 \(0 = greedy\), got -0.5",
        ),
        (torch.tensor([[1]]), {"temperature": 1.0, "top_k": 0}, "top_k must be at least 1, got 0"),
        (torch.tensor([[1]]), {"temperature": 1.0, "top_p": 0.0}, r"top_p must be in \(0, 1\], got 0.0"),
        (torch.tensor([[1]]), {"temperature": 1.0, "top_p": 1.5}, r"top_p must be in \(0, 1\], got 1.5"),
        (torch.tensor([[1, 97]]), {}, r"token id 97 is outside the vocabulary \[0, 97\)"),
    ],
)
def test_bad_input(model, token_ids, kwargs, message):
    kwargs = {"max_new_tokens": 3, **kwargs}
    with pytest.raises(ValueError, match=message):
        generate(model, token_ids, **kwargs)


def test_next_token_needs_2d_logits():
    with pytest.raises(ValueError, match=r"logits must have shape \(batch, vocab_size\), got \(5,\)"):
        next_token(torch.zeros(5))


def test_generate_is_the_stream_collected(model):
    prompt = torch.tensor([[3, 1, 4], [1, 5, 9]])
    steps = list(generate_stream(model, prompt, 7))
    assert len(steps) == 7 and all(s.shape == (2, 1) for s in steps)
    assert torch.equal(torch.cat([prompt, *steps], dim=1), generate(model, prompt, 7))


def test_the_stream_restores_train_mode_when_closed_early():
    torch.manual_seed(0)
    model = GPTModel(CFG.with_(drop_rate=0.3)).train()
    stream = generate_stream(model, torch.tensor([[1, 2]]), 10)
    next(stream)
    assert not model.training
    stream.close()
    assert model.training


@pytest.mark.parametrize("second_turn", [3, 9])  # within the window, and past it (the cache rebuilds itself)
def test_a_passed_cache_continues_the_conversation(model, second_turn):
    """Turn 2 passes only its new tokens; it gets what a cache-free run on the whole text gets."""
    turn1 = torch.tensor([[70, 8, 39, 10]])
    cache = model.new_kv_cache()
    out1 = generate(model, turn1, 5, kv_cache=cache)
    assert len(set(out1[0, 4:].tolist())) > 1  # not a constant run, so a lost token would show
    assert torch.equal(cache.token_ids, out1)  # the cache holds the whole first turn, last token included
    user = torch.tensor([[11, 12]])
    out2 = generate(model, user, second_turn, kv_cache=cache)
    assert torch.equal(out2[:, :2], user)
    whole = generate(model, torch.cat([out1, user], dim=1), second_turn, use_cache=False)
    assert torch.equal(out2[:, 2:], whole[:, -second_turn:])


@pytest.mark.parametrize("impl", ["sdpa", "teaching"])
@pytest.mark.parametrize("use_cache", [False, True])
def test_a_left_padded_batch_generates_what_each_row_generates_alone(impl, use_cache):
    torch.manual_seed(0)
    model = GPTModel(CFG.with_(attn_impl=impl)).eval()
    rows = [torch.randint(0, CFG.vocab_size, (n,)) for n in (6, 2, 4)]
    width = max(len(r) for r in rows)
    ids = torch.zeros(len(rows), width, dtype=torch.long)
    mask = torch.zeros(len(rows), width, dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, width - len(r) :], mask[i, width - len(r) :] = r, 1
    out = generate(model, ids, 8, attention_mask=mask, use_cache=use_cache)
    for i, r in enumerate(rows):
        alone = generate(model, r.unsqueeze(0), 8, use_cache=use_cache)
        assert torch.equal(out[i, width:], alone[0, len(r) :])


def test_eos_rows_stop_on_their_own_in_a_padded_batch(model):
    ids, mask = torch.tensor([[0, 3, 4], [50, 60, 70]]), torch.tensor([[0, 1, 1], [1, 1, 1]])
    free = generate(model, ids, 6, attention_mask=mask)
    eos = int(free[0, 4])  # row 0's second new token
    out = generate(model, ids, 6, attention_mask=mask, eos_id=eos)
    assert torch.equal(out[0, 3:5], free[0, 3:5]) and (out[0, 5:] == eos).all()


@pytest.mark.parametrize(
    "logits, kwargs, message",
    [
        (
            torch.zeros(1, 4),
            {"temperature": float("nan")},
            r"temperature must be a number >= 0 \(0 = greedy\), got nan",
        ),
        (
            torch.full((2, 4), float("-inf")),
            {"temperature": 1.0},
            "every logit in row 0 is -inf: no token is left to pick",
        ),
        (
            torch.tensor([[0.0, 1.0], [float("nan"), 0.0]]),
            {"temperature": 1.0},
            "logits row 1 contains NaN or \\+inf",
        ),
        (
            torch.tensor([[0.0, float("nan")]]),
            {},
            "logits row 0 contains NaN or \\+inf: the model's output is broken",
        ),
    ],
)
def test_next_token_names_bad_logits_and_temperatures(logits, kwargs, message):
    with pytest.raises(ValueError, match=message):
        next_token(logits, **kwargs)


def test_a_float_prompt_is_refused_with_the_fix(model):
    with pytest.raises(
        TypeError,
        match=r"token_ids must hold integer token ids \(torch.long\), got torch.float32; convert with token_ids.long\(\)",
    ):
        generate(model, torch.tensor([[1.0, 2.0]]), 3)


def test_a_cache_without_use_cache_is_a_contradiction(model):
    with pytest.raises(ValueError, match="kv_cache was given but use_cache=False"):
        generate(model, torch.tensor([[1]]), 2, kv_cache=model.new_kv_cache(), use_cache=False)


class _CacheWithoutRecord(KVCache):
    """A cache that keeps keys and values but not the ids (as another model family's cache might)."""

    token_ids = None


def test_a_cache_that_does_not_record_its_ids_still_continues_and_says_when_it_is_full(model):
    cache = _CacheWithoutRecord(CFG.n_layers, CFG.context_length)
    turn1 = torch.tensor([[70, 8, 39, 10]])
    out1 = generate(model, turn1, 3, kv_cache=cache)
    assert len(cache) == 7 and len(set(out1[0, 4:].tolist())) > 1
    out2 = generate(model, torch.tensor([[11]]), 4, kv_cache=cache)
    whole = generate(model, torch.cat([out1, torch.tensor([[11]])], dim=1), 4, use_cache=False)
    assert torch.equal(out2[:, 1:], whole[:, -4:])
    with pytest.raises(
        ValueError, match="the kv_cache is full .* does not record its tokens, so the window cannot slide"
    ):
        generate(model, torch.tensor([[12]]), 10, kv_cache=cache)
