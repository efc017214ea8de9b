"""Training with GRPO: sample groups of answers, score them, update the policy; and measure it.

``grpo.py`` holds the arithmetic (advantages, response log-probs, the clipped loss); this module
runs it on a model and a tokenizer:

- ``sample_groups``: every task's prompt ``group_size`` times through ``model.batched.generate_batch``
  (left padding, the KV cache, finished rows leave the batch), each row with its own seed, then the
  rewards (``rl_tasks.reward``) and the group-relative advantages;
- ``update_policy``: ``updates_per_batch`` optimizer steps on those samples, in micro-batches;
- ``grpo_step``: both, returning ``GRPOMetrics``; a notebook calls it in a loop with a progress bar;
- ``evaluate``: greedy accuracy per kind, e.g. on ``make_rl_tasks(...).heldout``.

**Sampling log-probs.** The ratio's denominator is the log-probability the *sampling* policy gave
each response token. We do not copy them out of the generation loop: the first update's forward
pass computes the very same numbers (same weights, untouched yet) with the same full-sequence
arithmetic as every later update, so at the first update the ratio is exactly 1 (the cached
incremental pass of generation agrees only to the last float bits) and no extra pass is spent.
Sampling is plain temperature sampling (no top-k / top-p), so the sampler's distribution *is*
``softmax(logits / temperature)``, the one the log-probs describe.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import torch
from torch import nn

from ..model.batched import generate_batch
from ..text.protocol import TextTokenizer
from .grpo import AGGREGATIONS, group_advantages, grpo_loss, response_batch, response_logprobs
from .prompts import extract_response, fit_prompt
from .rl_tasks import Task, reward

__all__ = [
    "Evaluation",
    "GRPOConfig",
    "GRPOMetrics",
    "Rollout",
    "evaluate",
    "grpo_step",
    "sample_groups",
    "update_policy",
]

RewardFn = Callable[[str, Task], float]


@dataclass
class GRPOConfig:
    """One GRPO step's settings; the defaults suit answers of one short sentence."""

    group_size: int = 8  # completions per prompt: their mean is the baseline, so more = a less noisy one
    max_new_tokens: int = 32  # our answers are one sentence; a longer cap mostly samples rambling
    temperature: float = 1.0  # sample from the policy itself, the distribution its log-probs describe
    clip_eps: float = 0.2  # PPO's trust region on the ratio
    beta: float = 0.04  # KL weight (DeepSeekMath's); 0 = no KL penalty and no reference model needed
    updates_per_batch: int = 1  # optimizer steps per batch of samples; with 1 the clip never bites
    aggregation: str = "sequence"  # see grpo.py: "sequence" (GRPO paper) or "token" (DAPO)
    format_bonus: float = 0.0  # rl_tasks.reward's bonus for a well-formed answer
    micro_batch_size: int = 8  # rows per forward/backward: memory only, the gradient is the same
    sample_batch_size: int = 32  # rows per generation batch
    max_grad_norm: float | None = 1.0  # clip the gradient norm (None = no clipping)
    adv_eps: float = 1e-4  # in (r - mean) / (std + eps)

    def __post_init__(self) -> None:
        if self.group_size < 2:
            raise ValueError(
                f"group_size must be >= 2 (a group's mean is the baseline), got {self.group_size}"
            )
        if self.max_new_tokens < 1 or self.updates_per_batch < 1 or self.micro_batch_size < 1:
            raise ValueError("max_new_tokens, updates_per_batch and micro_batch_size must be >= 1")
        if self.temperature <= 0:
            raise ValueError(
                f"temperature must be > 0: GRPO samples, greedy groups are all alike; got {self.temperature}"
            )
        if self.aggregation not in AGGREGATIONS:
            raise ValueError(f"aggregation must be one of {AGGREGATIONS}, got {self.aggregation!r}")
        if self.clip_eps <= 0 or self.beta < 0:
            raise ValueError(f"clip_eps must be > 0 and beta >= 0, got {self.clip_eps} and {self.beta}")


@dataclass
class Rollout:
    """One batch of samples: row ``k`` answers ``tasks[k]``; rows of one prompt are consecutive."""

    tasks: list[Task]
    prompt_ids: list[list[int]]
    completions: list[list[int]]  # new token ids, up to and including the end-of-text id if reached
    responses: list[str]
    rewards: torch.Tensor  # (N,)
    advantages: torch.Tensor  # (N,)
    group_size: int


@dataclass
class GRPOMetrics:
    """What one GRPO step saw and did (means over its completions or response tokens)."""

    loss: float
    mean_reward: float
    accuracy: float  # completions with reward >= 1, i.e. right (a format bonus alone stays below 1)
    kl: float  # mean k3 estimate per response token against the reference (nan without one)
    response_length: float  # tokens per completion
    clip_fraction: float  # response tokens whose ratio was clipped (0 with one update per batch)
    signal_fraction: float  # groups whose rewards differ: the others have zero advantage, teach nothing
    sample_seconds: float
    update_seconds: float


def sample_groups(
    model: nn.Module,
    tokenizer: TextTokenizer,
    tasks: Sequence[Task],
    cfg: GRPOConfig,
    *,
    seed: int = 0,
    reward_fn: RewardFn | None = None,
    progress: bool = False,
) -> Rollout:
    """``cfg.group_size`` sampled completions per task, scored, with group-relative advantages.

    Row ``k`` (task ``k // group_size``) samples with seed ``seed + k``, so the same seed gives the
    same completions whatever the batch size; give each step seeds of its own (e.g. ``seed=step *
    100_000``). ``reward_fn(response, task)`` defaults to ``rl_tasks.reward`` with ``cfg.format_bonus``.
    """
    if not tasks or not all(isinstance(t, Task) for t in tasks):
        raise ValueError("tasks must be a non-empty list of rl_tasks.Task")
    reward_fn = reward_fn or partial(reward, format_bonus=cfg.format_bonus)
    rows = [t for t in tasks for _ in range(cfg.group_size)]  # each task group_size times, consecutively
    context_length = model.cfg.context_length
    encoded = {
        t.prompt: fit_prompt(tokenizer.encode(t.prompt), context_length, cfg.max_new_tokens) for t in tasks
    }
    prompt_ids = [encoded[t.prompt] for t in rows]
    completions = generate_batch(
        model,
        prompt_ids,
        cfg.max_new_tokens,
        batch_size=cfg.sample_batch_size,
        eos_id=tokenizer.eos_id,
        temperature=cfg.temperature,
        seed=seed,
        pad_id=tokenizer.pad_id,
        progress=progress,
    )
    responses = [
        extract_response(c, 0, decode=tokenizer.decode, eos_id=tokenizer.eos_id) for c in completions
    ]
    rewards = torch.tensor([float(reward_fn(r, t)) for r, t in zip(responses, rows)])  # (N,)
    advantages = group_advantages(rewards, cfg.group_size, eps=cfg.adv_eps)
    return Rollout(rows, prompt_ids, completions, responses, rewards, advantages, cfg.group_size)


def update_policy(
    policy: nn.Module,
    optimizer: torch.optim.Optimizer,
    prompt_ids: Sequence[Sequence[int]],
    completions: Sequence[Sequence[int]],
    advantages: torch.Tensor,
    cfg: GRPOConfig,
    *,
    reference: nn.Module | None = None,
    pad_id: int = 0,
) -> tuple[float, float, float]:
    """``cfg.updates_per_batch`` optimizer steps on the GRPO loss; ``(loss, kl, clip_fraction)``, means over them.

    The policy runs in eval mode (no dropout), so the ratio compares the same function before and
    after an update. Rows are processed ``cfg.micro_batch_size`` at a time, each micro-batch's loss
    weighted by its share of the batch, so the gradient is that of the whole batch. With ``beta=0``
    rows whose advantage is 0 are skipped: their loss and gradient are exactly 0.
    """
    if cfg.beta > 0 and reference is None:
        raise ValueError(
            "cfg.beta > 0 needs a frozen reference model (a copy of the starting policy); or set beta=0"
        )
    token_ids, attention_mask, response_mask = response_batch(prompt_ids, completions, pad_id=pad_id)
    advantages = advantages.detach().float().cpu()
    if tuple(advantages.shape) != (len(completions),):
        raise ValueError(
            f"advantages must be one per completion ({len(completions)},), got {tuple(advantages.shape)}"
        )
    rows = torch.arange(len(completions)) if cfg.beta > 0 else advantages.nonzero().squeeze(1)
    n_rows, n_tokens = len(completions), int(response_mask.sum())
    chunks = [rows[i : i + cfg.micro_batch_size] for i in range(0, len(rows), cfg.micro_batch_size)]
    cached: list[tuple[torch.Tensor, torch.Tensor | None]] = []  # per chunk: old and reference log-probs
    losses, kls, clips = [], [], []
    was_training = policy.training
    policy.eval()
    try:
        for update in range(cfg.updates_per_batch if chunks else 0):
            optimizer.zero_grad(set_to_none=True)
            loss_sum = kl_sum = clip_sum = 0.0
            for i, chunk in enumerate(chunks):
                ids, mask, resp = _trimmed(token_ids[chunk], attention_mask[chunk], response_mask[chunk])
                lp = response_logprobs(policy, ids, mask, resp.shape[1], temperature=cfg.temperature)
                if update == 0:  # the policy has not moved yet: these are the sampler's log-probs
                    ref = None
                    if reference is not None:
                        with torch.no_grad():
                            ref = response_logprobs(
                                reference, ids, mask, resp.shape[1], temperature=cfg.temperature
                            )
                    cached.append((lp.detach(), ref))
                old, ref = cached[i]
                out = grpo_loss(
                    lp,
                    old,
                    advantages[chunk],
                    resp,
                    ref_logprobs=ref,
                    beta=cfg.beta,
                    clip_eps=cfg.clip_eps,
                    aggregation=cfg.aggregation,
                )
                chunk_tokens = int(resp.sum())
                weight = len(chunk) / n_rows if cfg.aggregation == "sequence" else chunk_tokens / n_tokens
                (out.loss * weight).backward()
                loss_sum += float(out.loss.detach()) * weight
                kl_sum += out.kl * chunk_tokens
                clip_sum += out.clip_fraction * chunk_tokens
            if cfg.max_grad_norm is not None:
                nn.utils.clip_grad_norm_(policy.parameters(), cfg.max_grad_norm)
            optimizer.step()
            kept_tokens = int(response_mask[rows].sum())
            losses.append(loss_sum)
            kls.append(kl_sum / kept_tokens)
            clips.append(clip_sum / kept_tokens)
    finally:
        optimizer.zero_grad(set_to_none=True)
        policy.train(was_training)
    if not losses:  # every group's rewards were equal and there is no KL term: nothing to learn from
        return 0.0, float("nan"), 0.0
    return sum(losses) / len(losses), sum(kls) / len(kls), sum(clips) / len(clips)


def _trimmed(ids: torch.Tensor, mask: torch.Tensor, resp: torch.Tensor):
    """A micro-batch without the leading columns that are padding in all its rows (less work, same numbers)."""
    start = int(mask.any(dim=0).int().argmax())  # first column where some row has a real token
    return ids[:, start:], mask[:, start:], resp


def grpo_step(
    policy: nn.Module,
    optimizer: torch.optim.Optimizer,
    tokenizer: TextTokenizer,
    tasks: Sequence[Task],
    cfg: GRPOConfig,
    *,
    reference: nn.Module | None = None,
    seed: int = 0,
    reward_fn: RewardFn | None = None,
) -> GRPOMetrics:
    """One GRPO step on ``tasks`` (``cfg.group_size`` completions each): sample, score, update.

    ``reference`` is a frozen copy of the starting policy (needed when ``cfg.beta > 0``; given with
    ``beta=0`` it is only measured). See ``sample_groups`` for ``seed`` and ``reward_fn``.
    """
    if cfg.beta > 0 and reference is None:
        raise ValueError(
            "cfg.beta > 0 needs a frozen reference model (a copy of the starting policy); or set beta=0"
        )
    start = time.perf_counter()
    rollout = sample_groups(policy, tokenizer, tasks, cfg, seed=seed, reward_fn=reward_fn)
    sampled = time.perf_counter()
    loss, kl, clip_fraction = update_policy(
        policy,
        optimizer,
        rollout.prompt_ids,
        rollout.completions,
        rollout.advantages,
        cfg,
        reference=reference,
        pad_id=tokenizer.pad_id,
    )
    groups = rollout.rewards.view(-1, cfg.group_size)  # (N,) -> (P, G)
    return GRPOMetrics(
        loss=loss,
        mean_reward=float(rollout.rewards.mean()),
        accuracy=float((rollout.rewards >= 1).float().mean()),
        kl=kl,
        response_length=sum(map(len, rollout.completions)) / len(rollout.completions),
        clip_fraction=clip_fraction,
        signal_fraction=float((groups.amax(dim=1) > groups.amin(dim=1)).float().mean()),
        sample_seconds=sampled - start,
        update_seconds=time.perf_counter() - sampled,
    )


@dataclass
class Evaluation:
    """Greedy answers to some tasks and how many were right, per kind and over all (``"all"``)."""

    accuracy: dict[str, float]
    responses: list[str]
    correct: list[bool]


def evaluate(
    model: nn.Module,
    tokenizer: TextTokenizer,
    tasks: Sequence[Task],
    *,
    max_new_tokens: int = 32,
    batch_size: int = 32,
    progress: bool = False,
) -> Evaluation:
    """Greedy accuracy of ``model`` on ``tasks`` (right = ``rl_tasks.reward`` of 1 without a format bonus)."""
    if not tasks:
        raise ValueError("tasks is empty: give the tasks to evaluate, e.g. make_rl_tasks(...).heldout")
    prompts = [
        fit_prompt(tokenizer.encode(t.prompt), model.cfg.context_length, max_new_tokens) for t in tasks
    ]
    completions = generate_batch(
        model,
        prompts,
        max_new_tokens,
        batch_size=batch_size,
        eos_id=tokenizer.eos_id,
        pad_id=tokenizer.pad_id,
        progress=progress,
    )
    responses = [
        extract_response(c, 0, decode=tokenizer.decode, eos_id=tokenizer.eos_id) for c in completions
    ]
    right = [reward(r, t) >= 1 for r, t in zip(responses, tasks)]
    accuracy: dict[str, float] = {}
    for kind in dict.fromkeys(t.kind for t in tasks):
        mine = [ok for ok, t in zip(right, tasks) if t.kind == kind]
        accuracy[kind] = sum(mine) / len(mine)
    accuracy["all"] = sum(right) / len(right)
    return Evaluation(accuracy, responses, right)
