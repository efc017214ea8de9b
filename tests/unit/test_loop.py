"""The shared training loop: it learns, records a History, stops on NaN, clips, schedules and resumes exactly."""

from __future__ import annotations

import math

import pytest
import torch
from torch.utils.data import DataLoader, DistributedSampler

from llmscratch.model.config import GPTConfig
from llmscratch.model.gpt import GPTModel
from llmscratch.text.dataset import NextTokenDataset
from llmscratch.training.checkpoint import load_checkpoint, save_checkpoint
from llmscratch.training.history import History
from llmscratch.training.loop import NonFiniteLossError, train
from llmscratch.training.schedules import WarmupCosine

# A model small enough that a step takes milliseconds: 64-token vocabulary, one block.
MICRO = GPTConfig(vocab_size=64, context_length=16, emb_dim=32, n_heads=2, n_layers=1, drop_rate=0.1)


def _ids(n: int = 600, seed: int = 0) -> torch.Tensor:
    """A learnable stream: a random walk over a 64-token vocabulary that mostly steps by +1."""
    g = torch.Generator().manual_seed(seed)
    steps = torch.where(torch.rand(n, generator=g) < 0.8, 1, torch.randint(0, 64, (n,), generator=g))
    return steps.cumsum(0) % 64


def _loaders(batch_size: int = 4, seed: int = 5):
    ids = _ids()
    train_ds = NextTokenDataset(ids[:500], MICRO.context_length, 8)
    val_ds = NextTokenDataset(ids[500:], MICRO.context_length, 8)
    sampler = DistributedSampler(train_ds, num_replicas=1, rank=0, shuffle=True, seed=seed)
    return DataLoader(train_ds, batch_size=batch_size, sampler=sampler, drop_last=True), DataLoader(
        val_ds, batch_size=batch_size
    )


def _setup(seed: int = 1):
    torch.manual_seed(seed)
    model = GPTModel(MICRO)
    return model, torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.1)


def test_the_loss_falls_and_the_history_is_complete():
    model, opt = _setup()
    train_loader, val_loader = _loaders()
    steps_per_epoch = len(train_loader)
    samples = []
    h = train(
        model,
        opt,
        train_loader,
        val_loader=val_loader,
        epochs=3,
        eval_every=10,
        eval_batches=2,
        sample=lambda m: samples.append(1) or "text",
        progress=False,
    )
    total = 3 * steps_per_epoch
    assert h.position.step == total and h.position.epoch == 3 and h.position.batch_in_epoch == 0
    assert len(h.step_losses) == len(h.lrs) == len(h.grad_norms) == total
    assert h.steps[0] == 0 and h.steps[-1] == total, "evaluated before the first step and at the end"
    assert h.steps[1:-1] == list(range(10, total, 10))
    assert (
        len(h.train_losses)
        == len(h.val_losses)
        == len(h.tokens_seen)
        == len(h.epochs)
        == len(h.samples)
        == len(h.steps)
    )
    assert h.tokens_seen[-1] == total * 4 * MICRO.context_length
    assert h.epochs[-1] == 3.0
    assert h.val_losses[-1] < h.val_losses[0] - 1.0, h.val_losses
    assert h.train_losses[0] == pytest.approx(math.log(64), abs=0.3), "an untrained model guesses uniformly"
    assert model.training


def test_max_steps_stops_mid_epoch():
    model, opt = _setup()
    h = train(model, opt, _loaders()[0], epochs=5, max_steps=7, progress=False)
    assert h.position.step == 7 and len(h.step_losses) == 7 and h.steps == [0, 7]
    assert math.isnan(h.val_losses[-1]), "no validation loader: NaN, not a made-up number"


def test_the_schedule_sets_the_learning_rate_of_every_step():
    model, opt = _setup()
    schedule = WarmupCosine(max_lr=1e-2, warmup_steps=3, total_steps=10, min_lr=1e-3)
    h = train(model, opt, _loaders()[0], max_steps=10, lr_schedule=schedule, progress=False)
    assert h.lrs == [schedule(s) for s in range(10)]
    assert opt.param_groups[0]["lr"] == schedule(9)


def test_gradient_clipping_bounds_the_update():
    model, opt = _setup()
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    before = [p.detach().clone() for p in model.parameters()]
    h = train(model, opt, _loaders()[0], max_steps=1, grad_clip=0.01, eval_at_start=False, progress=False)
    moved = torch.sqrt(sum(((p.detach() - b) ** 2).sum() for p, b in zip(model.parameters(), before)))
    assert h.grad_norms[0] > 0.01, "the raw norm is recorded before clipping"
    assert moved.item() == pytest.approx(0.01, rel=1e-3), (
        "SGD with lr 1 moves the weights by the clipped norm"
    )


def test_a_nan_loss_stops_training_and_names_the_step():
    model, opt = _setup()
    calls = []

    def poisoned(m, batch, device):
        calls.append(1)
        loss = torch.nn.functional.cross_entropy(m(batch[0]).flatten(0, 1), batch[1].flatten())
        return loss * float("nan") if len(calls) == 4 else loss

    with pytest.raises(
        NonFiniteLossError,
        match=r"the training loss is nan at step 4 \(epoch 1, batch 4\); stopped before updating",
    ):
        train(model, opt, _loaders()[0], batch_loss=poisoned, eval_at_start=False, progress=False)
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(NonFiniteLossError, match="is inf at step 1"):
        train(
            model,
            opt,
            _loaders()[0],
            batch_loss=lambda m, b, d: m(b[0]).abs().sum() * float("inf"),
            eval_at_start=False,
            progress=False,
        )
    assert all(torch.equal(p, b) for p, b in zip(model.parameters(), before)), (
        "the weights must not be touched"
    )


def test_resuming_from_a_checkpoint_gives_the_uninterrupted_losses(tmp_path):
    """Model, optimizer, schedule, data position and RNG (dropout) all come back."""
    schedule = WarmupCosine(max_lr=3e-3, warmup_steps=4, total_steps=30, min_lr=3e-4)
    kwargs = dict(epochs=3, eval_every=5, eval_batches=1, lr_schedule=schedule, progress=False)
    train_loader, val_loader = _loaders()
    model, opt = _setup()
    full = train(model, opt, train_loader, val_loader=val_loader, **kwargs)

    model, opt = _setup()
    path = tmp_path / "ckpt.safetensors"

    def save_at_13(m, o, h):
        if h.position.step == 13:  # mid-epoch
            save_checkpoint(path, m, o, history=h, schedule=schedule)

    train(model, opt, train_loader, val_loader=val_loader, max_steps=17, on_step=save_at_13, **kwargs)
    torch.manual_seed(999)  # the interrupted process is gone: nothing of its RNG may survive
    model, opt = _setup(seed=42)  # a different init, overwritten by the checkpoint
    restored = load_checkpoint(path, model, opt)
    assert restored.history.position.step == 13 and restored.schedule == schedule
    resumed = train(model, opt, train_loader, val_loader=val_loader, history=restored.history, **kwargs)
    assert resumed.step_losses == full.step_losses
    assert resumed.val_losses == full.val_losses and resumed.steps == full.steps
    assert resumed.lrs == full.lrs and resumed.position == full.position


def _shuffled_with_generator(seed: int = 5):
    """Like chapter 7's loader: shuffled by the DataLoader's own generator (no epoch-aware sampler)."""
    train_ds = NextTokenDataset(_ids()[:500], MICRO.context_length, 8)
    return train_ds, DataLoader(
        train_ds, batch_size=4, shuffle=True, drop_last=True, generator=torch.Generator().manual_seed(seed)
    )


def test_a_fixed_training_sample_is_the_same_batches_every_time_and_leaves_training_alone():
    train_ds, _ = _shuffled_with_generator()
    fixed = list(DataLoader(train_ds, batch_size=4))[:3]  # the first 3 batches, unshuffled
    losses = {}
    for name, kwargs in (("often", dict(eval_every=2)), ("at_end", dict(eval_at_start=False))):
        model, opt = _setup()
        h = train(
            model,
            opt,
            _shuffled_with_generator()[1],
            max_steps=8,
            train_eval_loader=fixed,
            eval_batches=2,
            progress=False,
            **kwargs,
        )
        losses[name] = h
    # evaluating five times or once: the same training batches in the same order, the same losses
    assert losses["often"].step_losses == losses["at_end"].step_losses
    assert losses["often"].train_losses[-1] == losses["at_end"].train_losses[-1]

    # with a learning rate of 0 nothing changes, so a fixed sample must give one value at every point ...
    model, opt = _setup()
    opt.param_groups[0]["lr"] = 0.0
    h = train(
        model,
        opt,
        _shuffled_with_generator()[1],
        max_steps=6,
        eval_every=2,
        train_eval_loader=fixed,
        eval_batches=2,
        progress=False,
    )
    assert len(h.train_losses) == 4 and len(set(h.train_losses)) == 1
    # ... and it is the loss of the first 2 of those batches
    from llmscratch.training.losses import loss_over_loader

    assert h.train_losses[0] == pytest.approx(loss_over_loader(model, fixed[:2]))
    # while the first batches of the shuffled loader itself differ from one evaluation to the next
    model, opt = _setup()
    opt.param_groups[0]["lr"] = 0.0
    h = train(
        model, opt, _shuffled_with_generator()[1], max_steps=6, eval_every=2, eval_batches=2, progress=False
    )
    assert len(set(h.train_losses)) > 1


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(epochs=0), "epochs must be at least 1"),
        (dict(max_steps=0), "max_steps must be at least 1"),
        (dict(eval_every=0), "eval_every must be at least 1"),
        (dict(grad_clip=0.0), "grad_clip must be positive"),
    ],
)
def test_bad_settings_are_explained(kwargs, message):
    model, opt = _setup()
    with pytest.raises(ValueError, match=message):
        train(model, opt, _loaders()[0], progress=False, **kwargs)


def test_an_empty_loader_is_explained():
    model, opt = _setup()
    with pytest.raises(ValueError, match="train_loader has no batches"):
        train(model, opt, [], progress=False)


def test_history_round_trips_through_a_dict():
    model, opt = _setup()
    h = train(model, opt, _loaders()[0], max_steps=3, sample=lambda m: "x", progress=False)
    assert History.from_dict(h.to_dict()) == h


# bf16 keeps 8 mantissa bits, so single steps differ (by about 0.01 nats here); averaged over 25 steps
# the two curves must stay within this many nats of each other over the whole run.
BF16_CURVE_TOL = 0.05


@pytest.mark.slow
def test_bf16_autocast_follows_the_fp32_loss_curve():
    """300 steps (20 epochs) of the micro model, fp32 vs bf16 autocast from the same start.

    Runs on any CPU: without bf16 units autocast is only slower, not different.
    """
    curves, finals = [], []
    for dtype in (None, torch.bfloat16):
        model, opt = _setup()
        h = train(
            model,
            opt,
            _loaders()[0],
            epochs=100,
            max_steps=300,
            eval_at_start=False,
            autocast_dtype=dtype,
            progress=False,
        )
        curves.append(torch.tensor(h.step_losses))
        finals.append(h.train_losses[-1])
    fp32, bf16 = (c.unfold(0, 25, 1).mean(-1) for c in curves)  # 25-step moving averages
    assert curves[0][0] - curves[0][-1] > 2.0, (
        "the run must actually learn for the comparison to mean anything"
    )
    gap = (fp32 - bf16).abs().max().item()
    assert gap <= BF16_CURVE_TOL, (
        f"the bf16 loss curve left the fp32 one by {gap:.3f} nats (tolerance {BF16_CURVE_TOL})"
    )
    assert abs(finals[0] - finals[1]) <= BF16_CURVE_TOL
