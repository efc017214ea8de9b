"""grpo and grpo_train: advantages, the clipped loss against a formula written here, masking, the
first-step identities, one measured update, seeded sampling, and a toy reward that GRPO learns."""

from __future__ import annotations

import copy
import math
import statistics

import pytest
import torch

from llmscratch.finetune.grpo import group_advantages, grpo_loss, response_batch, response_logprobs
from llmscratch.finetune.grpo_train import GRPOConfig, evaluate, grpo_step, sample_groups, update_policy
from llmscratch.finetune.rl_tasks import Task
from llmscratch.model.config import TINY
from llmscratch.model.gpt import GPTModel
from llmscratch.model.llama import LLAMA_TINY, LlamaModel

VOCAB = 98  # 0 = padding, 1 = end of text, 2..97 = printable ASCII and a newline
GPT_CFG = TINY.with_(vocab_size=VOCAB, context_length=160, emb_dim=32, n_heads=4, tie_embeddings=False)
LLAMA_CFG = LLAMA_TINY.with_(vocab_size=VOCAB, context_length=160, tie_embeddings=False)


class CharTokenizer:
    """One id per character: enough of the tokenizer protocol for prompts and rewards on text."""

    name, eos_id, pad_id, vocab_size = "chars", 1, 0, VOCAB

    def encode(self, text, *, allowed_special=frozenset()):
        return [2 + ord(c) - 32 if 32 <= ord(c) < 127 else 97 for c in text]

    def decode(self, ids):
        return "".join(chr(i - 2 + 32) if 2 <= i < 97 else "\n" if i == 97 else "" for i in ids)

    def special_id(self, token):
        raise KeyError(token)


def make_model(family: str = "gpt", seed: int = 0):
    torch.manual_seed(seed)
    return (GPTModel(GPT_CFG) if family == "gpt" else LlamaModel(LLAMA_CFG)).eval()


def ragged(lengths, seed):
    g = torch.Generator().manual_seed(seed)
    return [torch.randint(2, VOCAB, (n,), generator=g).tolist() for n in lengths]


# Two prompts, a group of four completions each (ragged on purpose), and rewards with a mix per group.
PROMPTS = [p for p in ragged((5, 9), seed=1) for _ in range(4)]
COMPLETIONS = ragged((3, 6, 4, 2, 5, 3, 6, 4), seed=2)
REWARDS = torch.tensor([1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0])


# ---- advantages ---------------------------------------------------------------------------------


def test_advantages_follow_the_formula_and_sum_to_zero_per_group():
    rewards = torch.tensor([1.0, 0.0, 0.0, 1.0, 0.2, 0.9, 0.4, 0.4])
    adv = group_advantages(rewards, group_size=4, eps=1e-4)
    for g in range(2):
        group = rewards[4 * g : 4 * g + 4].tolist()
        mean, std = statistics.mean(group), statistics.stdev(group)  # sample std, n - 1
        expected = [(r - mean) / (std + 1e-4) for r in group]
        assert adv[4 * g : 4 * g + 4].tolist() == pytest.approx(expected, rel=1e-5)
        assert abs(float(adv[4 * g : 4 * g + 4].sum())) < 1e-5


def test_advantages_are_exactly_zero_when_a_group_agrees():
    rewards = torch.tensor([0.1] * 8 + [1.0] * 8 + [0.0, 1.0] * 4)  # 0.1 is not exact in binary
    adv = group_advantages(rewards, group_size=8)
    assert torch.equal(adv[:16], torch.zeros(16))
    assert bool((adv[16:] != 0).all())


def test_advantages_reject_bad_shapes():
    with pytest.raises(ValueError, match="divide the number of rewards"):
        group_advantages(torch.zeros(7), group_size=4)
    with pytest.raises(ValueError, match="group_size must be >= 2"):
        group_advantages(torch.zeros(4), group_size=1)
    with pytest.raises(ValueError, match=r"shape \(N,\)"):
        group_advantages(torch.zeros(2, 4), group_size=4)


# ---- the loss on a hand-made batch ----------------------------------------------------------------


def hand_batch():
    """Three completions, five token slots each, ratios spread well past 1 +- 0.2 (the clip bites)."""
    g = torch.Generator().manual_seed(7)
    old = -torch.rand(3, 5, generator=g) * 3
    logprobs = old + (torch.rand(3, 5, generator=g) - 0.5) * 2  # log ratios in +-1
    ref = old + (torch.rand(3, 5, generator=g) - 0.5)
    mask = torch.tensor([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1], [0, 0, 0, 1, 1]], dtype=torch.bool)
    return logprobs, old, ref, torch.tensor([1.5, -0.7, 0.3]), mask


def formula(logprobs, old, ref, adv, mask, *, beta, eps, aggregation):
    """The GRPO loss in plain Python, token by token, and how many tokens the clip zeroed."""
    rows, clipped, all_terms = [], 0, []
    for i in range(len(adv)):
        terms = []
        for t in range(mask.shape[1]):
            if not mask[i, t]:
                continue
            lp, a = float(logprobs[i, t]), float(adv[i])
            ratio = math.exp(lp - float(old[i, t]))
            surrogate = min(ratio * a, min(max(ratio, 1 - eps), 1 + eps) * a)
            d = float(ref[i, t]) - lp
            terms.append(-(surrogate - beta * (math.exp(d) - d - 1)))
            clipped += (ratio > 1 + eps and a > 0) or (ratio < 1 - eps and a < 0)
        rows.append(sum(terms) / len(terms))
        all_terms += terms
    loss = sum(rows) / len(rows) if aggregation == "sequence" else sum(all_terms) / len(all_terms)
    return loss, clipped


@pytest.mark.parametrize("beta", [0.0, 0.1])
@pytest.mark.parametrize("aggregation", ["sequence", "token"])
def test_loss_equals_the_formula_with_clipping_active(beta, aggregation):
    logprobs, old, ref, adv, mask = hand_batch()
    out = grpo_loss(
        logprobs, old, adv, mask, ref_logprobs=ref, beta=beta, clip_eps=0.2, aggregation=aggregation
    )
    expected, clipped = formula(logprobs, old, ref, adv, mask, beta=beta, eps=0.2, aggregation=aggregation)
    ratio = (logprobs - old).exp()[mask]
    outside = int(((ratio < 0.8) | (ratio > 1.2)).sum())
    assert 2 <= clipped < outside, (
        "the batch must have ratios the clip zeroes and ones the min keeps unclipped"
    )
    assert float(out.loss) == pytest.approx(expected, rel=1e-6)
    assert out.clip_fraction == pytest.approx(clipped / int(mask.sum()))
    d = (ref - logprobs)[mask]
    assert out.kl == pytest.approx(float((d.exp() - d - 1).mean()), rel=1e-6)


def test_the_two_aggregations_differ_when_lengths_differ():
    logprobs, old, ref, adv, mask = hand_batch()
    per_seq = grpo_loss(logprobs, old, adv, mask, aggregation="sequence").loss
    per_token = grpo_loss(logprobs, old, adv, mask, aggregation="token").loss
    assert abs(float(per_seq - per_token)) > 1e-3


def test_masked_slots_change_neither_loss_nor_gradient():
    logprobs, old, ref, adv, mask = hand_batch()

    def loss_and_grad(lp, old, ref):
        lp = lp.clone().requires_grad_(True)
        loss = grpo_loss(lp, old, adv, mask, ref_logprobs=ref, beta=0.1).loss
        loss.backward()
        return loss.detach(), lp.grad[mask]

    noise = torch.where(mask, 0.0, float("inf"))  # anything at all outside the mask, even inf
    base = loss_and_grad(logprobs, old, ref)
    changed = loss_and_grad(logprobs - noise, old + noise, ref - noise)
    assert torch.equal(base[0], changed[0]) and torch.equal(base[1], changed[1])


def test_ratio_one_gives_minus_mean_advantage_and_the_policy_gradient():
    """At the first update (policy = sampler) the clipped objective is -mean(A) and its gradient is
    the plain policy gradient -mean_i A_i mean_t grad log pi(token)."""
    model = make_model()
    ids, attention, resp = response_batch(PROMPTS, COMPLETIONS)
    adv = group_advantages(REWARDS, group_size=4)
    lp = response_logprobs(model, ids, attention, resp.shape[1])
    out = grpo_loss(lp, lp.detach(), adv, resp)
    assert out.clip_fraction == 0.0
    torch.testing.assert_close(out.loss, -adv.mean(), atol=1e-6, rtol=0)
    grads = torch.autograd.grad(out.loss, list(model.parameters()), retain_graph=True)
    reinforce = -(adv * (lp * resp).sum(1) / resp.sum(1)).mean()
    expected = torch.autograd.grad(reinforce, list(model.parameters()))
    for g, e in zip(grads, expected):
        torch.testing.assert_close(g, e, atol=1e-7, rtol=1e-5)


def test_loss_rejects_bad_input():
    logprobs, old, ref, adv, mask = hand_batch()
    with pytest.raises(ValueError, match="must all be"):
        grpo_loss(logprobs, old[:, :4], adv, mask)
    with pytest.raises(ValueError, match="advantages must be"):
        grpo_loss(logprobs, old, adv[:2], mask)
    with pytest.raises(ValueError, match="needs ref_logprobs"):
        grpo_loss(logprobs, old, adv, mask, beta=0.1)
    with pytest.raises(ValueError, match="at least one response token"):
        grpo_loss(logprobs, old, adv, mask & False)
    with pytest.raises(ValueError, match="aggregation must be one of"):
        grpo_loss(logprobs, old, adv, mask, aggregation="batch")


# ---- log-probs of the response only ------------------------------------------------------------


@pytest.mark.parametrize("family", ["gpt", "llama"])
def test_response_logprobs_ignore_padding_and_equal_each_row_alone(family):
    model = make_model(family)
    ids, attention, resp = response_batch(PROMPTS, COMPLETIONS, pad_id=0)
    ids_other_pad, _, _ = response_batch(PROMPTS, COMPLETIONS, pad_id=55)
    assert not torch.equal(ids, ids_other_pad)
    with torch.no_grad():
        lp = response_logprobs(model, ids, attention, resp.shape[1])
        torch.testing.assert_close(lp, response_logprobs(model, ids_other_pad, attention, resp.shape[1]))
        for row, (p, c) in enumerate(zip(PROMPTS, COMPLETIONS)):  # a row alone, by hand, no padding
            logits = model(torch.tensor([p + c]))[0, len(p) - 1 : -1]  # (len(c), V): those scoring c
            alone = torch.log_softmax(logits, dim=-1).gather(1, torch.tensor(c).unsqueeze(1)).squeeze(1)
            torch.testing.assert_close(lp[row][resp[row]], alone, atol=1e-5, rtol=1e-5)
        hot = response_logprobs(
            model, ids, attention, resp.shape[1], temperature=2.0
        )  # what T=2 samples from
        p, c = PROMPTS[0], COMPLETIONS[0]
        logits = model(torch.tensor([p + c]))[0, len(p) - 1 : -1] / 2.0
        alone = torch.log_softmax(logits, dim=-1).gather(1, torch.tensor(c).unsqueeze(1)).squeeze(1)
        torch.testing.assert_close(hot[0][resp[0]], alone, atol=1e-5, rtol=1e-5)


def test_response_batch_rejects_bad_input():
    with pytest.raises(ValueError, match="one completion per prompt"):
        response_batch([[1, 2]], [[3], [4]])
    with pytest.raises(ValueError, match="a completion is empty"):
        response_batch([[1, 2]], [[]])


# ---- one update on a tiny model -------------------------------------------------------------------


def sequence_logprobs(model):
    ids, attention, resp = response_batch(PROMPTS, COMPLETIONS)
    with torch.no_grad():
        return (response_logprobs(model, ids, attention, resp.shape[1]) * resp).sum(1)  # (N,)


@pytest.mark.parametrize("family", ["gpt", "llama"])
def test_one_sgd_update_raises_the_better_completions_and_lowers_the_others(family):
    model = make_model(family)
    adv = group_advantages(REWARDS, group_size=4)
    before = sequence_logprobs(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    cfg = GRPOConfig(group_size=4, beta=0.0, max_grad_norm=None)
    loss, _, clip_fraction = update_policy(model, optimizer, PROMPTS, COMPLETIONS, adv, cfg)
    change = sequence_logprobs(model) - before
    assert torch.equal(torch.sign(change), torch.sign(adv)), (adv, change)
    assert loss == pytest.approx(float(-adv.mean()), abs=1e-6) and clip_fraction == 0.0


def test_micro_batches_and_skipped_rows_give_the_full_batch_update():
    """update_policy (micro-batches of 3, zero-advantage rows skipped) = one hand-written SGD step."""
    adv = torch.tensor([0.8, 0.0, -0.5, 0.0, 1.2, -0.3, 0.0, -0.6])
    cfg = GRPOConfig(group_size=4, beta=0.0, micro_batch_size=3, max_grad_norm=None)
    model = make_model()
    update_policy(model, torch.optim.SGD(model.parameters(), lr=0.5), PROMPTS, COMPLETIONS, adv, cfg)
    by_hand = make_model()
    ids, attention, resp = response_batch(PROMPTS, COMPLETIONS)
    lp = response_logprobs(by_hand, ids, attention, resp.shape[1])
    grpo_loss(lp, lp.detach(), adv, resp).loss.backward()
    torch.optim.SGD(by_hand.parameters(), lr=0.5).step()
    for (name, p), q in zip(model.named_parameters(), by_hand.parameters()):
        torch.testing.assert_close(p, q, atol=1e-6, rtol=1e-5, msg=name)


def test_kl_to_an_identical_reference_is_zero_then_grows():
    model = make_model()
    reference = copy.deepcopy(model)
    adv = group_advantages(REWARDS, group_size=4)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    once = GRPOConfig(group_size=4, beta=0.04, max_grad_norm=None)
    _, kl_first, _ = update_policy(model, optimizer, PROMPTS, COMPLETIONS, adv, once, reference=reference)
    assert kl_first == 0.0  # policy = reference: every k3 term is exp(0) - 0 - 1 = 0
    _, kl_next, clip_next = update_policy(
        model, optimizer, PROMPTS, COMPLETIONS, adv, once, reference=reference
    )
    assert kl_next > 0 and clip_next == 0.0  # the policy moved away; one update per batch never clips
    thrice = GRPOConfig(group_size=4, beta=0.04, updates_per_batch=3, max_grad_norm=None)
    _, _, clip_later = update_policy(model, optimizer, PROMPTS, COMPLETIONS, adv, thrice, reference=reference)
    assert clip_later > 0  # later updates on one batch move the ratio off 1, and the clip bites


# ---- sampling and whole steps --------------------------------------------------------------------

TASKS = [Task("arithmetic", f"Add {i} and 1.", "", f"{i} + 1 = {i + 1}.") for i in range(3)]


def test_sampling_with_a_seed_is_reproducible():
    model, tok = make_model(), CharTokenizer()
    cfg = GRPOConfig(group_size=4, max_new_tokens=6)
    first = sample_groups(model, tok, TASKS, cfg, seed=5)
    again = sample_groups(
        model, tok, TASKS, GRPOConfig(group_size=4, max_new_tokens=6, sample_batch_size=5), seed=5
    )
    other = sample_groups(model, tok, TASKS, cfg, seed=6)
    assert first.completions == again.completions and first.responses == again.responses
    assert first.completions != other.completions
    assert len(set(map(tuple, first.completions[:4]))) > 1, "a group's rows draw differently"
    assert first.tasks == [t for t in TASKS for _ in range(4)] and first.advantages.shape == (12,)


def test_a_whole_step_and_an_evaluation_run_and_report():
    model, tok = make_model(), CharTokenizer()
    reference = copy.deepcopy(model)
    cfg = GRPOConfig(group_size=4, max_new_tokens=6)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    m = grpo_step(
        model, optimizer, tok, TASKS, cfg, reference=reference, reward_fn=lambda r, t: float("7" in r)
    )
    assert 0 <= m.mean_reward <= 1 and 0 <= m.signal_fraction <= 1 and 1 <= m.response_length <= 6
    assert math.isfinite(m.loss) and m.kl == 0.0 and m.sample_seconds > 0
    ev = evaluate(model, tok, TASKS, max_new_tokens=6)
    assert set(ev.accuracy) == {"arithmetic", "all"} and len(ev.responses) == 3


def test_grpo_learns_a_toy_reward():
    """Reward = share of "7" characters in the answer; a random tiny model must raise it."""
    model, tok = make_model(), CharTokenizer()
    reference = copy.deepcopy(model)
    cfg = GRPOConfig(group_size=8, max_new_tokens=8)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    share_of_sevens = lambda response, task: response.count("7") / max(len(response), 1)  # noqa: E731
    rewards = []
    for step in range(12):
        m = grpo_step(
            model,
            optimizer,
            tok,
            TASKS,
            cfg,
            reference=reference,
            seed=1000 * step,
            reward_fn=share_of_sevens,
        )
        rewards.append(m.mean_reward)
    assert statistics.mean(rewards[-3:]) > 3 * statistics.mean(rewards[:3]) + 0.05, rewards


def test_bad_configuration_and_input_give_one_clear_error():
    with pytest.raises(ValueError, match="group_size must be >= 2"):
        GRPOConfig(group_size=1)
    with pytest.raises(ValueError, match="temperature must be > 0"):
        GRPOConfig(temperature=0)
    with pytest.raises(ValueError, match="aggregation must be one of"):
        GRPOConfig(aggregation="mean")
    model, tok = make_model(), CharTokenizer()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="needs a frozen reference model"):
        grpo_step(model, optimizer, tok, TASKS, GRPOConfig(group_size=2, beta=0.1))
    with pytest.raises(ValueError, match="non-empty list of rl_tasks.Task"):
        sample_groups(model, tok, [], GRPOConfig())
    with pytest.raises(ValueError, match="advantages must be one per completion"):
        update_policy(model, optimizer, PROMPTS, COMPLETIONS, torch.zeros(3), GRPOConfig(beta=0.0))
