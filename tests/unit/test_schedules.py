"""Schedules are pure functions of the step: warmup rises linearly, cosine falls to min_lr."""

from __future__ import annotations

import math

import pytest

from llmscratch.training.schedules import Constant, WarmupCosine, schedule_from_dict


def test_warmup_is_linear_and_reaches_max_lr():
    s = WarmupCosine(max_lr=2e-3, warmup_steps=8, total_steps=100, min_lr=1e-4)
    assert [s(i) for i in range(9)] == pytest.approx([2e-3 * i / 8 for i in range(9)])


def test_cosine_decay_is_monotone_and_ends_at_min_lr():
    s = WarmupCosine(max_lr=1.0, warmup_steps=10, total_steps=60, min_lr=0.1)
    decay = [s(i) for i in range(10, 61)]
    assert all(b <= a for a, b in zip(decay, decay[1:]))
    assert decay[0] == 1.0 and math.isclose(decay[-1], 0.1) and s(1000) == 0.1
    assert math.isclose(s(35), 0.55)  # half-way: the mean of max_lr and min_lr


def test_no_warmup_starts_at_max_lr():
    assert WarmupCosine(max_lr=0.5, warmup_steps=0, total_steps=10)(0) == 0.5


def test_round_trip_through_a_dict():
    for s in (WarmupCosine(1e-3, 5, 50, 1e-5, 1e-6), Constant(3e-4)):
        assert schedule_from_dict(s.to_dict()) == s


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(max_lr=0.0, warmup_steps=1, total_steps=10), "max_lr must be positive"),
        (dict(max_lr=1.0, warmup_steps=20, total_steps=10), "warmup_steps <= total_steps"),
        (dict(max_lr=1.0, warmup_steps=1, total_steps=10, min_lr=2.0), "min_lr"),
    ],
)
def test_bad_settings_are_explained(kwargs, message):
    with pytest.raises(ValueError, match=message):
        WarmupCosine(**kwargs)


def test_unknown_kind_is_explained():
    with pytest.raises(ValueError, match="unknown schedule kind 'Linear'"):
        schedule_from_dict({"kind": "Linear"})
