"""DPO (``llmscratch.finetune.dpo``): the loss against the paper's formula, the masking, the training step.

The model is GPT ``TINY`` (and the Llama sibling where the family could matter) with a 97-token
vocabulary and no dropout; text is encoded one id per word, so prompts fit its 64-token context.
"""

from __future__ import annotations

import math
import random
import zlib

import pytest
import torch

from llmscratch.constants import IGNORE_INDEX
from llmscratch.finetune.dpo import (
    DPOObjective,
    PreferenceDataset,
    PreferenceItem,
    add_reference_logprobs,
    collate_pairs,
    create_preference_dataloader,
    dpo_loss,
    frozen_reference,
    sequence_logprobs,
)
from llmscratch.finetune.prompts import format_prompt
from llmscratch.model.config import TINY
from llmscratch.model.gpt import GPTModel
from llmscratch.model.llama import LLAMA_TINY, LlamaModel
from llmscratch.training.loop import train

VOCAB, PAD = 97, 0


def encode(text: str) -> list[int]:
    """One id per word (1..96, 0 is padding): a stable hash, so tests are reproducible."""
    return [zlib.crc32(w.encode()) % (VOCAB - 1) + 1 for w in text.split()]


PAIRS = [
    {"instruction": "Which is bigger, 122 or 431?", "input": "", "kind": "compare_numbers",
     "chosen": "431 is larger than 122.", "rejected": "122 is larger than 431.", "variant": "wrong_order"},
    {"instruction": "Give the plural form of the noun below.", "input": "mouse", "kind": "plural",
     "chosen": 'The plural of "mouse" is "mice".', "rejected": 'The plural of "mouse" is "mouses".',
     "variant": "wrong_word"},
    {"instruction": "Convert 5 kilometers to meters.", "input": "", "kind": "unit_conversion",
     "chosen": "5 kilometers is 5,000 meters.",
     "rejected": "Sure! Let me think about this carefully. 5 kilometers is 5,000 meters. I hope this helps!",
     "variant": "rambling"},
]  # fmt: skip


def make_model(family: str = "gpt", seed: int = 0):
    torch.manual_seed(seed)
    if family == "gpt":
        return GPTModel(TINY.with_(vocab_size=VOCAB, drop_rate=0.0))
    return LlamaModel(LLAMA_TINY.with_(vocab_size=VOCAB))


def perturbed_copy(model, scale: float = 0.05, seed: int = 1):
    """A policy that has moved away from the reference (so the loss is not log 2)."""
    policy = frozen_reference(model).train().requires_grad_(True)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in policy.parameters():
            p.add_(scale * torch.randn(p.shape, generator=gen))
    return policy


def batch_of(pairs, **kwargs):
    ds = PreferenceDataset(pairs, encode)
    return collate_pairs([ds[i] for i in range(len(ds))], pad_id=PAD, **kwargs)


# ---------------------------------------------------------------------------------------------
# An independent implementation of the paper's formulas, in plain Python
# ---------------------------------------------------------------------------------------------


def paper_loss(pc, pr, rc, rr, beta, eps=0.0, ipo=False):
    """DPO (Rafailov et al. 2023, eq. 7), conservative DPO with label noise eps, or IPO (Azar et al., eq. 17)."""
    losses = []
    for a, b, c, d in zip(pc, pr, rc, rr):
        h = (a - c) - (b - d)
        if ipo:
            losses.append((h - 1 / (2 * beta)) ** 2)
        else:
            p_chosen = 1 / (1 + math.exp(-beta * h))  # Bradley-Terry: P(chosen preferred)
            p_rejected = 1 / (1 + math.exp(beta * h))  # = 1 - p_chosen, without the rounding to 0
            losses.append(-(1 - eps) * math.log(p_chosen) - eps * math.log(p_rejected))
    return sum(losses) / len(losses)


def loop_logprob(model, item_ids: list[int], prompt_length: int) -> float:
    """log p(response + end-of-text | prompt), one position at a time, without collate or masks."""
    ids = item_ids + [PAD]
    with torch.no_grad():
        logits = model(torch.tensor([ids[:-1]]))[0].double()  # (T, V)
    return sum(
        float(torch.log_softmax(logits[t - 1], dim=-1)[ids[t]]) for t in range(prompt_length, len(ids))
    )


# ---------------------------------------------------------------------------------------------
# The loss
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("beta", [0.1, 0.5, 2.0])
@pytest.mark.parametrize("eps", [0.0, 0.1, 0.3])
def test_loss_equals_the_papers_formula_written_independently(beta, eps):
    gen = torch.Generator().manual_seed(int(beta * 10 + eps * 100))
    pc, pr, rc, rr = (-20 * torch.rand(6, generator=gen, dtype=torch.float64) for _ in range(4))
    out = dpo_loss(pc, pr, rc, rr, beta=beta, label_smoothing=eps)
    expected = paper_loss(pc.tolist(), pr.tolist(), rc.tolist(), rr.tolist(), beta, eps)
    assert out.loss.item() == pytest.approx(expected, rel=1e-10)
    assert out.chosen_rewards.tolist() == pytest.approx(
        [beta * (a - c) for a, c in zip(pc.tolist(), rc.tolist())]
    )
    assert out.rejected_rewards.tolist() == pytest.approx(
        [beta * (b - d) for b, d in zip(pr.tolist(), rr.tolist())]
    )
    wins = [(a - c) > (b - d) for a, b, c, d in zip(pc.tolist(), pr.tolist(), rc.tolist(), rr.tolist())]
    assert out.reward_accuracy == pytest.approx(sum(wins) / len(wins))
    assert out.reward_margin == pytest.approx(float((out.chosen_rewards - out.rejected_rewards).mean()))


@pytest.mark.parametrize("beta", [0.1, 0.5, 2.0])
def test_ipo_loss_equals_its_formula(beta):
    gen = torch.Generator().manual_seed(7)
    pc, pr, rc, rr = (-3 * torch.rand(5, generator=gen, dtype=torch.float64) for _ in range(4))
    out = dpo_loss(pc, pr, rc, rr, beta=beta, loss_type="ipo")
    assert out.loss.item() == pytest.approx(
        paper_loss(pc.tolist(), pr.tolist(), rc.tolist(), rr.tolist(), beta, ipo=True)
    )


@pytest.mark.parametrize("family", ["gpt", "llama"])
@pytest.mark.parametrize(("beta", "eps"), [(0.1, 0.0), (0.5, 0.2)])
def test_loss_at_the_start_is_log_2_when_policy_equals_reference(family, beta, eps):
    model = make_model(family)
    objective = DPOObjective(frozen_reference(model), beta=beta, label_smoothing=eps)
    loss = objective(model, batch_of(PAIRS), torch.device("cpu"))
    assert loss.item() == pytest.approx(math.log(2), abs=1e-6)
    assert objective.last.chosen_rewards.abs().max().item() < 1e-6
    assert objective.last.rejected_rewards.abs().max().item() < 1e-6
    ipo = DPOObjective(frozen_reference(model), beta=beta, loss_type="ipo")
    assert ipo(model, batch_of(PAIRS), torch.device("cpu")).item() == pytest.approx(
        (1 / (2 * beta)) ** 2, rel=1e-5
    )


@pytest.mark.parametrize(("family", "seed"), [("gpt", 0), ("gpt", 1), ("gpt", 2), ("llama", 0)])
def test_one_sgd_step_raises_the_chosen_log_prob_and_lowers_the_rejected_one(family, seed):
    """Measured on every pair, including the rambling one whose rejected answer *contains* the chosen one.

    Only the margin is guaranteed to first order; that each side moves its own way is what we check.
    (With lr=0.5 the step overshoots and some rejected log-probs rise: a small step is the claim.)
    """
    model = make_model(family, seed)
    objective = DPOObjective(frozen_reference(model), beta=0.5)
    batch = batch_of(PAIRS)

    def logps():
        with torch.no_grad():
            return sequence_logprobs(model(batch.inputs), batch.targets).chunk(2)

    chosen_before, rejected_before = logps()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.02)
    objective(model, batch, torch.device("cpu")).backward()
    optimizer.step()
    chosen_after, rejected_after = logps()
    assert (chosen_after > chosen_before).all(), (chosen_before, chosen_after)
    assert (rejected_after < rejected_before).all(), (rejected_before, rejected_after)
    after = objective(model, batch, torch.device("cpu"))
    assert after.item() < math.log(2)
    assert objective.last.reward_accuracy == 1.0 and objective.last.reward_margin > 0


# ---------------------------------------------------------------------------------------------
# Sequence log-probs: the response only, padding-independent
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("family", ["gpt", "llama"])
def test_sequence_logprobs_are_the_response_tokens_scored_one_by_one(family):
    model = make_model(family)
    ds = PreferenceDataset(PAIRS, encode)
    batch = collate_pairs([ds[i] for i in range(len(ds))], pad_id=PAD)
    with torch.no_grad():
        got = sequence_logprobs(model(batch.inputs), batch.targets).tolist()
    rows = [ds[i].chosen for i in range(len(ds))] + [ds[i].rejected for i in range(len(ds))]
    expected = [loop_logprob(model, row.token_ids, row.prompt_length) for row in rows]
    assert got == pytest.approx(expected, abs=1e-4)
    prompt = encode(format_prompt(PAIRS[0]))
    assert rows[0].prompt_length == len(prompt) and rows[0].token_ids[: len(prompt)] == prompt


def test_a_padded_batch_gives_the_same_loss_as_rows_one_by_one():
    reference = make_model()
    policy = perturbed_copy(reference)
    objective = DPOObjective(frozen_reference(reference), beta=0.3, label_smoothing=0.1)
    together = objective.losses(policy, batch_of(PAIRS), torch.device("cpu"))
    alone = [objective.losses(policy, batch_of([p]), torch.device("cpu")) for p in PAIRS]
    assert batch_of(PAIRS).inputs.shape[1] > min(
        batch_of([p]).inputs.shape[1] for p in PAIRS
    )  # really padded
    assert together.loss.item() == pytest.approx(sum(a.loss.item() for a in alone) / len(alone), abs=1e-5)
    assert together.chosen_rewards.tolist() == pytest.approx(
        [a.chosen_rewards.item() for a in alone], abs=1e-5
    )
    assert together.loss.item() != pytest.approx(math.log(2), abs=1e-3)  # the policy has moved


def test_prompt_and_padding_positions_do_not_contribute():
    model = make_model()
    batch = batch_of(PAIRS)
    ignored = batch.targets == IGNORE_INDEX
    assert ignored.any() and (~ignored).any()
    with torch.no_grad():
        logits = model(batch.inputs)
    base = sequence_logprobs(logits, batch.targets)
    noise = 10 * torch.randn(logits.shape, generator=torch.Generator().manual_seed(0))
    changed_ignored = sequence_logprobs(logits + noise * ignored[..., None], batch.targets)
    changed_kept = sequence_logprobs(logits + noise * (~ignored)[..., None], batch.targets)
    assert torch.equal(base, changed_ignored)
    assert not torch.allclose(base, changed_kept)  # the check can fail: kept positions do count
    # padding *inputs* (after each row's end-of-text) can be anything: the model is causal
    lengths = (~ignored).float().cumsum(1).argmax(1)  # (2B,): last kept target = the row's end-of-text
    inputs = batch.inputs.clone()
    for b, last in enumerate(lengths.tolist()):
        inputs[b, last + 1 :] = torch.randint(1, VOCAB, (inputs.shape[1] - last - 1,))
    with torch.no_grad():
        assert torch.allclose(sequence_logprobs(model(inputs), batch.targets), base, atol=1e-5)


def test_average_is_the_sum_divided_by_the_response_length():
    model = make_model()
    batch = batch_of(PAIRS)
    with torch.no_grad():
        logits = model(batch.inputs)
    counts = (batch.targets != IGNORE_INDEX).sum(1)
    total, mean = (
        sequence_logprobs(logits, batch.targets),
        sequence_logprobs(logits, batch.targets, average=True),
    )
    assert torch.allclose(mean, total / counts)


# ---------------------------------------------------------------------------------------------
# The objective in chapter 5's loop; precomputed reference log-probs
# ---------------------------------------------------------------------------------------------


def test_precomputed_reference_logprobs_give_the_same_loss_as_a_live_reference():
    reference = make_model()
    policy = perturbed_copy(reference)
    ds = PreferenceDataset(PAIRS, encode)
    live = DPOObjective(frozen_reference(reference), beta=0.2)
    loss_live = live(policy, collate_pairs([ds[i] for i in range(3)], pad_id=PAD), torch.device("cpu"))
    add_reference_logprobs(ds, reference, batch_size=2, pad_id=PAD)  # other batches: other padding
    batch = collate_pairs([ds[i] for i in range(3)], pad_id=PAD)
    assert batch.reference_logprobs is not None and batch.reference_logprobs.shape == (6,)
    loss_pre = DPOObjective(None, beta=0.2)(policy, batch, torch.device("cpu"))
    assert loss_pre.item() == pytest.approx(loss_live.item(), abs=1e-5)


def test_the_objective_trains_with_chapter_5s_loop_and_the_reference_stays_frozen():
    model = make_model()
    reference = frozen_reference(model)
    before = {k: v.clone() for k, v in reference.state_dict().items()}
    assert not any(p.requires_grad for p in reference.parameters()) and not reference.training
    rng = random.Random(0)
    pairs = PAIRS * 4
    rng.shuffle(pairs)
    loader = create_preference_dataloader(
        PreferenceDataset(pairs, encode), batch_size=4, shuffle=True, pad_id=PAD
    )
    val_loader = create_preference_dataloader(PreferenceDataset(PAIRS, encode), batch_size=3, pad_id=PAD)
    objective = DPOObjective(reference, beta=0.5)
    history = train(
        model,
        torch.optim.AdamW(model.parameters(), lr=3e-3),
        loader,
        val_loader=val_loader,
        epochs=3,
        batch_loss=objective,
        evaluate=lambda m: objective.evaluate(m, val_loader),
        progress=False,
    )
    assert history.val_losses[0] == pytest.approx(math.log(2), abs=1e-5)
    assert history.val_losses[-1] < history.val_losses[0]
    assert history.metrics["reward_accuracy"][0] == 0.0 and history.metrics["reward_accuracy"][-1] > 0.5
    assert history.metrics["reward_margin"][-1] > 0
    # evaluate's own loss is the loop's validation loss (one pass gives both)
    assert history.metrics["loss"] == pytest.approx(history.val_losses, abs=1e-6)
    assert all(torch.equal(before[k], v) for k, v in reference.state_dict().items())


# ---------------------------------------------------------------------------------------------
# Bad input: one clear error each
# ---------------------------------------------------------------------------------------------

Z3 = torch.zeros(3)


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: dpo_loss(Z3, Z3, Z3, torch.zeros(2)), ValueError, "same length"),
        (lambda: dpo_loss(Z3[None], Z3[None], Z3[None], Z3[None]), ValueError, "1-D"),
        (lambda: dpo_loss(Z3, Z3, Z3, Z3, beta=0.0), ValueError, "beta must be positive"),
        (lambda: dpo_loss(Z3, Z3, Z3, Z3, label_smoothing=0.5), ValueError, "label_smoothing"),
        (lambda: dpo_loss(Z3, Z3, Z3, Z3, loss_type="hinge"), ValueError, "loss_type"),
        (lambda: dpo_loss(Z3, Z3, Z3, Z3, loss_type="ipo", label_smoothing=0.1), ValueError, "IPO"),
        (
            lambda: sequence_logprobs(torch.zeros(2, 3, 5), torch.full((2, 3), IGNORE_INDEX)),
            ValueError,
            "rows [0, 1]",
        ),
        (
            lambda: sequence_logprobs(torch.zeros(2, 3, 5), torch.zeros(2, 4, dtype=torch.long)),
            ValueError,
            "targets",
        ),
        (lambda: collate_pairs([]), ValueError, "empty"),
        (lambda: collate_pairs([[1, 2]]), TypeError, "PreferenceItem"),
        (
            lambda: PreferenceDataset([{**PAIRS[0], "rejected": PAIRS[0]["chosen"]}], encode),
            ValueError,
            "pair 0",
        ),
        (
            lambda: DPOObjective(None)(make_model(), batch_of(PAIRS), torch.device("cpu")),
            ValueError,
            "reference",
        ),
    ],
)
def test_bad_input_gives_one_clear_error(call, error, words):
    with pytest.raises(error, match=None) as info:
        call()
    assert words in str(info.value)


def test_a_row_whose_answer_is_truncated_away_is_an_error_not_a_zero():
    ds = PreferenceDataset(PAIRS[:1], encode)
    short = PreferenceItem(ds[0].chosen, ds[0].rejected)
    with pytest.warns(UserWarning, match="truncated"):
        batch = collate_pairs([short], pad_id=PAD, allowed_max_length=ds[0].chosen.prompt_length - 2)
    with pytest.raises(ValueError, match="no response token"):
        DPOObjective(frozen_reference(make_model()))(make_model(), batch, torch.device("cpu"))
