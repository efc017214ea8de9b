"""The training loop shared by pretraining (chapter 5), classification (6) and instruction tuning (7).

``train(model, optimizer, train_loader, ...)`` runs the usual loop (forward, loss, backward, step)
and returns a ``History``. What differs between chapters is passed in, never copied:

- ``batch_loss(model, batch, device) -> scalar tensor``: how one batch becomes a loss.
  Default ``losses.lm_batch_loss`` (next-token cross-entropy on ``(inputs, targets)``); chapter 6
  passes its classification loss, chapter 7 the same LM loss over padded, masked batches.
- ``count_tokens(batch) -> int``: what "tokens seen" counts (default: every input token).
- ``evaluate(model) -> dict[str, float]``: extra metrics at each evaluation point (accuracy, say);
  they land in ``History.metrics``.
- ``sample(model) -> str``: text to show at each evaluation point (e.g. a greedy continuation).

Everything else is an option: ``epochs`` / ``max_steps``, evaluation every ``eval_every`` steps on
``eval_batches`` batches of the training and validation loaders (or of ``train_eval_loader``, a
fixed sample of training batches: see below), a learning-rate schedule (a pure
function of the step, see ``schedules``), gradient clipping, bf16 autocast (see ``precision``),
and an ``on_step(model, optimizer, history)`` hook after every optimizer step (the command-line
trainer saves checkpoints from it).

**Resuming.** ``History.position`` says where training is (steps done, epoch, batches of that
epoch already consumed, tokens seen). Pass a restored ``history`` and the loop continues exactly
there: it skips the consumed batches of the current epoch, and with a sampler whose order is a
function of the epoch (``torch.utils.data.DistributedSampler``, whose ``set_epoch`` the loop
calls; it also works with one process) together with the restored RNG states (``checkpoint``),
the resumed run computes the same losses as an uninterrupted one.

**A fixed training sample.** By default the training loss at an evaluation point is measured on
the first ``eval_batches`` batches of ``train_loader`` itself. A shuffled ``DataLoader`` deals other
batches each time, and one with its own ``generator`` draws from it at every pass, so evaluating
then also changes the order of later training batches. Pass ``train_eval_loader`` (an unshuffled
loader over the training set, or a list of batches) to measure on the same batches every time and
leave the training loader alone; with ``eval_batches=N`` only its first N batches are used.

**Guard rails.** A NaN or infinite loss raises ``NonFiniteLossError`` naming the step before the
weights are touched. Under DistributedDataParallel the step losses in the history are the mean
over ranks, and tokens seen count every rank's batch.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import nn
from tqdm import tqdm

from . import distributed
from .history import History
from .losses import BatchLoss, lm_batch_loss, loss_over_loader
from .precision import autocast


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or infinite; training stopped before the weights were updated."""


def count_input_tokens(batch: Any) -> int:
    """Tokens in a batch's inputs: ``batch[0].numel()`` (the default ``count_tokens``)."""
    return int(batch[0].numel())


def _epoch_length(loader: Iterable) -> int | None:
    try:
        return len(loader)  # type: ignore[arg-type]
    except TypeError:  # an iterable without a length
        return None


def _set_epoch(loader: Any, epoch: int) -> None:
    """Tell an epoch-aware sampler which epoch this is (DistributedSampler: a new, reproducible order)."""
    for holder in (getattr(loader, "sampler", None), getattr(loader, "batch_sampler", None)):
        for candidate in (holder, getattr(holder, "sampler", None)):
            if hasattr(candidate, "set_epoch"):
                candidate.set_epoch(epoch)
                return


def _rng_untouched(device: torch.device):
    """Run a block without advancing the global RNG (CPU, and the GPU in use), like a side branch."""
    return torch.random.fork_rng(devices=[device] if device.type == "cuda" else [])


def _grad_norm(params: list[torch.Tensor], clip: float | None) -> float:
    if clip is not None:
        return float(torch.nn.utils.clip_grad_norm_(params, clip))
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return 0.0
    return float(
        torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.detach().float()) for g in grads]))
    )


def train(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    train_loader: Iterable,
    *,
    val_loader: Iterable | None = None,
    train_eval_loader: Iterable | None = None,
    epochs: int = 1,
    max_steps: int | None = None,
    batch_loss: BatchLoss = lm_batch_loss,
    count_tokens: Callable[[Any], int] = count_input_tokens,
    eval_every: int | None = None,
    eval_batches: int | None = None,
    eval_at_start: bool = True,
    evaluate: Callable[[nn.Module], dict[str, float]] | None = None,
    sample: Callable[[nn.Module], str] | None = None,
    lr_schedule: Callable[[int], float] | None = None,
    grad_clip: float | None = None,
    autocast_dtype: torch.dtype | None = None,
    device: torch.device | None = None,
    history: History | None = None,
    on_step: Callable[[nn.Module, torch.optim.Optimizer, History], None] | None = None,
    progress: bool = True,
    desc: str = "training",
) -> History:
    """Train ``model`` and return its ``History`` (see the module docstring for the design).

    Args:
        model: any module ``batch_loss`` can call; may be wrapped in ``DistributedDataParallel``.
        optimizer: built over ``model``'s parameters; its learning rate is overwritten each step
            when ``lr_schedule`` is given.
        train_loader: an iterable of batches (re-iterated each epoch).
        val_loader: batches for the validation loss at evaluation points (optional).
        train_eval_loader: batches for the *training* loss at evaluation points (default:
            ``train_loader``); a fixed, unshuffled sample gives comparable points and never touches
            the training loader's shuffling.
        epochs: passes over ``train_loader`` (counted from the start of the run, not the resume).
        max_steps: stop after this many optimizer steps in total (None: run all epochs).
        batch_loss: ``(model, batch, device) -> loss``; default the language-modelling loss.
        count_tokens: ``batch -> number of tokens`` for ``tokens_seen``.
        eval_every: evaluate every this many steps (and at the end); None: only at the end.
        eval_batches: batches of each loader per evaluation (None: all of them).
        eval_at_start: also evaluate before the first step of a fresh run (the untrained loss).
        evaluate: extra metrics at each evaluation point, ``model -> {name: value}``.
        sample: ``model -> text`` shown (and stored) at each evaluation point.
        lr_schedule: ``step -> learning rate`` (a ``schedules`` object or any function).
        grad_clip: clip the gradient norm to this value (None: no clipping; the norm is still recorded).
        autocast_dtype: run forward and loss under ``torch.autocast`` with this dtype (None: float32).
        device: where batches go (default: the model's device).
        history: a restored ``History`` to resume from (default: a fresh run); it is updated in place
            and returned.
        on_step: called after every optimizer step with ``(model, optimizer, history)``.
        progress: show a tqdm bar (rank 0 only) with the loss, learning rate and tokens/s.
        desc: the progress bar's label.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    for name, value in (("max_steps", max_steps), ("eval_every", eval_every), ("eval_batches", eval_batches)):
        if value is not None and value < 1:
            raise ValueError(f"{name} must be at least 1 (or None), got {value}")
    if grad_clip is not None and not grad_clip > 0:
        raise ValueError(f"grad_clip must be positive (or None for no clipping), got {grad_clip}")
    device = device or next(model.parameters()).device
    history = history if history is not None else History()
    pos = history.position
    world = distributed.world_size()
    per_epoch = _epoch_length(train_loader)
    if per_epoch == 0:
        raise ValueError(
            "train_loader has no batches: the text is too short for one batch (see the data loader's settings)"
        )
    planned = epochs * per_epoch if per_epoch is not None else None
    if max_steps is not None:
        planned = min(planned, max_steps) if planned is not None else max_steps
    params = [p for p in model.parameters() if p.requires_grad]

    def run_eval() -> None:
        history.steps.append(pos.step)
        history.tokens_seen.append(pos.tokens_seen)
        history.epochs.append(pos.epoch + (pos.batch_in_epoch / per_epoch if per_epoch else 0.0))
        kwargs = dict(device=device, max_batches=eval_batches)
        measured = train_loader if train_eval_loader is None else train_eval_loader
        train_loss = loss_over_loader(model, measured, batch_loss, **kwargs)
        history.train_losses.append(distributed.mean_across_ranks(train_loss, device))
        if val_loader is not None:
            val_loss = loss_over_loader(model, val_loader, batch_loss, **kwargs)
            history.val_losses.append(distributed.mean_across_ranks(val_loss, device))
        else:
            history.val_losses.append(math.nan)
        for name, value in (evaluate(model) if evaluate else {}).items():
            history.metrics.setdefault(name, []).append(distributed.mean_across_ranks(value, device))
        if sample is not None:
            history.samples.append((pos.step, sample(model)))
        if bar is not None:
            val = f", val {history.val_losses[-1]:.3f}" if val_loader is not None else ""
            text = f"\n  sample: {history.samples[-1][1]!r}" if sample is not None else ""
            bar.write(f"step {pos.step:>5}: train {history.train_losses[-1]:.3f}{val}{text}")

    bar = None
    if progress and distributed.rank() == 0:
        bar = tqdm(
            total=planned, initial=pos.step, desc=desc, unit="step", mininterval=1.0, dynamic_ncols=True
        )
    model.train()
    started = time.perf_counter()
    seconds_before = history.seconds
    tokens_at_start = pos.tokens_seen
    if eval_at_start and pos.step == 0 and not history.steps:
        with _rng_untouched(device):
            run_eval()
    last_eval_step = history.steps[-1] if history.steps else None
    try:
        while pos.epoch < epochs and (max_steps is None or pos.step < max_steps):
            _set_epoch(train_loader, pos.epoch)
            with _rng_untouched(device):  # DataLoader.__iter__ draws a seed: keep it out of dropout's stream
                batches = iter(train_loader)
            if pos.batch_in_epoch:  # resuming mid-epoch: skip what the interrupted run consumed
                batches = itertools.islice(batches, pos.batch_in_epoch, None)
            for batch in batches:
                lr = lr_schedule(pos.step) if lr_schedule is not None else optimizer.param_groups[0]["lr"]
                if lr_schedule is not None:
                    for group in optimizer.param_groups:
                        group["lr"] = lr
                with autocast(device, autocast_dtype):
                    loss = batch_loss(model, batch, device)
                loss_value = distributed.mean_across_ranks(loss.item(), device)
                if not math.isfinite(loss_value):
                    raise NonFiniteLossError(
                        f"the training loss is {loss_value} at step {pos.step + 1} (epoch {pos.epoch + 1}, batch "
                        f"{pos.batch_in_epoch + 1}); stopped before updating the weights. Lower the learning rate, "
                        "add warmup (schedules.WarmupCosine) or gradient clipping (grad_clip=1.0), and check the data."
                    )
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                grad_norm = _grad_norm(params, grad_clip)
                optimizer.step()
                pos.step += 1
                pos.batch_in_epoch += 1
                pos.tokens_seen += count_tokens(batch) * world
                history.step_losses.append(loss_value)
                history.lrs.append(lr)
                history.grad_norms.append(grad_norm)
                history.seconds = seconds_before + time.perf_counter() - started
                if bar is not None:
                    rate = (pos.tokens_seen - tokens_at_start) / max(1e-9, time.perf_counter() - started)
                    bar.set_postfix_str(
                        f"loss {loss_value:.3f}, lr {lr:.2e}, {rate:,.0f} tok/s", refresh=False
                    )
                    bar.update(1)
                if eval_every is not None and pos.step % eval_every == 0:
                    with _rng_untouched(
                        device
                    ):  # evaluating (or sampling) more often changes no training step
                        run_eval()
                    last_eval_step = pos.step
                if per_epoch is not None and pos.batch_in_epoch >= per_epoch:
                    pos.epoch, pos.batch_in_epoch = pos.epoch + 1, 0  # the epoch is complete
                if on_step is not None:
                    on_step(model, optimizer, history)
                if max_steps is not None and pos.step >= max_steps:
                    break
            else:  # the loader ran out (also covers loaders without a length)
                if pos.batch_in_epoch:
                    pos.epoch, pos.batch_in_epoch = pos.epoch + 1, 0
                continue
            break  # max_steps reached inside the epoch
        if last_eval_step != pos.step:
            with _rng_untouched(device):
                run_eval()
    finally:
        history.seconds = seconds_before + time.perf_counter() - started
        if bar is not None:
            bar.close()
    return history
