"""GRPO's arithmetic: group-relative advantages, response log-probs and the clipped objective.

Group Relative Policy Optimization (Shao et al. 2024, "DeepSeekMath") is PPO without a value
model. For each prompt the policy samples a *group* of ``G`` completions; each gets a reward, and a
completion's advantage is how much better it did than its group: ``(r - mean) / (std + eps)``.
Every response token of completion ``i`` then carries the same advantage ``A_i`` into PPO's
clipped objective, with ``ratio = pi(token) / pi_old(token)`` (``pi_old``: the policy that
sampled):

    objective_t = min(ratio_t * A_i, clip(ratio_t, 1 - clip_eps, 1 + clip_eps) * A_i) - beta * KL_t

and the loss is its negative, averaged. ``KL_t`` keeps the policy near a frozen *reference* model,
estimated per token with Schulman's "k3" estimator ``exp(d) - d - 1``, ``d = log pi_ref - log pi``:
never negative, and unbiased for KL(pi || pi_ref) when tokens are sampled from pi. ``beta=0``
drops it (and the reference model's forward pass).

**How token losses become one number.** ``aggregation="sequence"`` (the default, the GRPO paper's
``1/|o_i|``): the mean over each completion's response tokens, then the mean over completions.
Every completion counts once, whatever its length, which is what its single reward and advantage
describe. Its known bias (Liu et al. 2025, "Dr. GRPO"): a token of a short completion weighs more
than one of a long one, so a wrong answer is punished less per token when it is long, which can
let wrong answers grow. ``aggregation="token"`` (DAPO's choice) averages over all response tokens
of the batch instead: every token counts once, and long completions weigh more. With answers of a
few dozen tokens the difference is small; we keep the paper's default and offer the other.

Module neighbours: ``rl_tasks`` makes the questions and rewards; ``grpo_train`` samples the groups
and runs the update steps with the functions here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from ..model.batched import left_pad

__all__ = [
    "AGGREGATIONS",
    "GRPOLoss",
    "grpo_loss",
    "group_advantages",
    "response_batch",
    "response_logprobs",
]

AGGREGATIONS = ("sequence", "token")


def group_advantages(rewards: torch.Tensor, group_size: int, *, eps: float = 1e-4) -> torch.Tensor:
    """``(r - mean) / (std + eps)`` within each group of ``group_size`` consecutive rewards ``(N,)``.

    ``std`` is the sample standard deviation (``n - 1``). A group whose rewards are all equal has
    nothing to compare: its advantages are exactly 0 (not just close to it).

    >>> group_advantages(torch.tensor([1.0, 0.0, 0.0, 1.0, 1.0, 1.0]), group_size=3)
    tensor([ 1.1545, -0.5773, -0.5773,  0.0000,  0.0000,  0.0000])
    """
    if rewards.ndim != 1:
        raise ValueError(f"rewards must be one number per completion, shape (N,), got {tuple(rewards.shape)}")
    if group_size < 2 or rewards.numel() % group_size:
        raise ValueError(
            f"group_size must be >= 2 and divide the number of rewards ({rewards.numel()}), got {group_size}"
        )
    groups = rewards.float().view(-1, group_size)  # (N,) -> (P, G)
    advantages = (groups - groups.mean(dim=1, keepdim=True)) / (groups.std(dim=1, keepdim=True) + eps)
    same = groups.amax(dim=1) == groups.amin(dim=1)  # (P,)
    return advantages.masked_fill(same.unsqueeze(1), 0.0).view(-1)  # (P, G) -> (N,)


def response_batch(
    prompts: Sequence[Sequence[int]], completions: Sequence[Sequence[int]], *, pad_id: int = 0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Prompt + completion rows, left-padded: ``token_ids`` and ``attention_mask`` ``(N, T)``, and
    ``response_mask`` ``(N, R)`` (``R`` = the longest completion) over the last ``R`` tokens.

    Every row ends at column ``T - 1``, so completion ``i`` fills its last ``len(completion_i)``
    columns; ``response_mask`` marks them among the last ``R``. The other columns of that window
    are prompt tokens (of rows with shorter completions) and stay out of the loss.

    >>> ids, mask, resp = response_batch([[5, 6], [7]], [[1], [2, 3]])  # 1 and 2, 3 are the responses
    >>> ids.tolist(), resp.tolist()
    ([[5, 6, 1], [7, 2, 3]], [[False, True], [True, True]])
    """
    if len(prompts) != len(completions) or not prompts:
        raise ValueError(
            f"give one completion per prompt (and at least one), got {len(prompts)} prompts and {len(completions)} completions"
        )
    if any(len(c) == 0 for c in completions):
        raise ValueError("a completion is empty: every completion needs at least one token to score")
    if any(len(p) == 0 for p in prompts):
        raise ValueError("a prompt is empty: the first response token must be predicted from something")
    token_ids, attention_mask = left_pad(
        [list(p) + list(c) for p, c in zip(prompts, completions)], pad_id=pad_id
    )
    width = max(len(c) for c in completions)
    lengths = torch.tensor([len(c) for c in completions])  # (N,)
    response_mask = torch.arange(width).flip(0).unsqueeze(0) < lengths.unsqueeze(1)  # (N, R)
    return token_ids, attention_mask, response_mask


def response_logprobs(
    model: nn.Module,
    token_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    n_last: int,
    *,
    temperature: float = 1.0,
) -> torch.Tensor:
    """Log-probability ``(N, n_last)`` of each of the last ``n_last`` tokens given the ones before.

    The logits at column ``t`` score the token at ``t + 1``; they are divided by ``temperature``
    so the log-probs are those of the distribution the sampler drew from. Gradients flow unless
    the caller wraps this in ``torch.no_grad()``.
    """
    if token_ids.ndim != 2 or tuple(attention_mask.shape) != tuple(token_ids.shape):
        raise ValueError(
            f"token_ids and attention_mask must both be (N, T), got {tuple(token_ids.shape)} and {tuple(attention_mask.shape)}"
        )
    if not 1 <= n_last < token_ids.shape[1]:
        raise ValueError(f"n_last must be in [1, T - 1] = [1, {token_ids.shape[1] - 1}], got {n_last}")
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0 (sampling, not greedy), got {temperature}")
    device = next(model.parameters()).device
    logits = model(token_ids.to(device), attention_mask=attention_mask.to(device))  # (N, T, V)
    logits = logits[:, -n_last - 1 : -1, :].float() / temperature  # (N, R, V): those scoring the last R
    targets = token_ids[:, -n_last:].to(device)  # (N, R)
    picked = logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1)  # (N, R, V) -> (N, R)
    return picked - torch.logsumexp(logits, dim=-1)  # log softmax at the target, without an (N, R, V) copy


@dataclass
class GRPOLoss:
    """The loss to minimise and what it measured on the response tokens."""

    loss: torch.Tensor  # scalar, differentiable
    kl: float  # mean k3 estimate per response token (nan without reference log-probs)
    clip_fraction: float  # response tokens where the clip was active (their gradient is 0)


def grpo_loss(
    logprobs: torch.Tensor,
    old_logprobs: torch.Tensor,
    advantages: torch.Tensor,
    response_mask: torch.Tensor,
    *,
    ref_logprobs: torch.Tensor | None = None,
    beta: float = 0.0,
    clip_eps: float = 0.2,
    aggregation: str = "sequence",
) -> GRPOLoss:
    """The negative clipped GRPO objective (module docstring) over the response tokens.

    ``logprobs`` ``(N, R)`` of the policy being trained, ``old_logprobs`` of the policy that
    sampled (no gradient), ``advantages`` ``(N,)``, ``response_mask`` ``(N, R)`` (True = a response
    token; every row needs one). Columns outside the mask change nothing. ``ref_logprobs`` of the
    frozen reference are needed when ``beta > 0`` and measured (``kl``) whenever given.

    >>> lp = torch.zeros(2, 3)
    >>> grpo_loss(lp, lp, torch.tensor([1.0, 0.5]), torch.ones(2, 3, dtype=torch.bool)).loss  # ratio 1: -mean(A)
    tensor(-0.7500)
    """
    shape = tuple(logprobs.shape)
    if len(shape) != 2 or tuple(old_logprobs.shape) != shape or tuple(response_mask.shape) != shape:
        raise ValueError(
            "logprobs, old_logprobs and response_mask must all be (N, R), got "
            f"{shape}, {tuple(old_logprobs.shape)} and {tuple(response_mask.shape)}"
        )
    if tuple(advantages.shape) != shape[:1]:
        raise ValueError(f"advantages must be (N,) = ({shape[0]},), got {tuple(advantages.shape)}")
    if aggregation not in AGGREGATIONS:
        raise ValueError(f"aggregation must be one of {AGGREGATIONS}, got {aggregation!r}")
    if clip_eps <= 0 or beta < 0:
        raise ValueError(f"clip_eps must be > 0 and beta >= 0, got clip_eps={clip_eps}, beta={beta}")
    if beta > 0 and ref_logprobs is None:
        raise ValueError("beta > 0 needs ref_logprobs (the frozen reference's log-probs); or set beta=0")
    if ref_logprobs is not None and tuple(ref_logprobs.shape) != shape:
        raise ValueError(f"ref_logprobs must be (N, R) = {shape}, got {tuple(ref_logprobs.shape)}")
    mask = response_mask.to(device=logprobs.device, dtype=torch.bool)
    if not bool(mask.any(dim=1).all()):
        raise ValueError("every row needs at least one response token in response_mask")
    zero = torch.zeros((), device=logprobs.device)
    # where(), not a product with the mask: a masked column may hold anything (even inf) and must not leak.
    ratio = torch.exp(torch.where(mask, logprobs - old_logprobs.detach(), zero))  # (N, R)
    adv = advantages.to(logprobs.device).float().unsqueeze(1)  # (N,) -> (N, 1)
    clipped = ratio.clamp(1 - clip_eps, 1 + clip_eps)
    objective = torch.minimum(ratio * adv, clipped * adv)  # (N, R)
    kl = None
    if ref_logprobs is not None:
        d = torch.where(mask, ref_logprobs.detach() - logprobs, zero)  # (N, R)
        kl = torch.exp(d) - d - 1  # k3: >= 0, exactly 0 where policy = reference
        if beta > 0:
            objective = objective - beta * kl
    per_token = torch.where(mask, -objective, zero)
    counts = mask.sum(dim=1)  # (N,) response tokens per row
    if aggregation == "sequence":
        loss = (per_token.sum(dim=1) / counts).mean()
    else:
        loss = per_token.sum() / counts.sum()
    active = ((ratio < 1 - clip_eps) & (adv < 0)) | ((ratio > 1 + clip_eps) & (adv > 0))  # clip bites
    n_tokens = int(counts.sum())
    return GRPOLoss(
        loss=loss,
        kl=float("nan") if kl is None else float(kl.detach()[mask].sum()) / n_tokens,
        clip_fraction=float(active[mask].sum()) / n_tokens,
    )
