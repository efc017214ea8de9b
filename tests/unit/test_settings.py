"""settings: the quick switch, pick, offline flag, cache folder and seeding."""

import random

import pytest
import torch

from llmscratch import settings


@pytest.mark.parametrize(
    "value, quick", [("1", True), ("true", True), ("ON", True), ("0", False), ("", False), ("no", False)]
)
def test_quick_flag_and_pick(monkeypatch, value, quick):
    monkeypatch.setenv("LLMSCRATCH_QUICK", value)
    assert settings.is_quick() is quick
    assert settings.pick(full="big", quick="small") == ("small" if quick else "big")
    assert ("Quick mode is ON" in settings.mode_banner()) is quick


def test_pytest_runs_are_quick_and_offline():
    # The root conftest.py turns both on for every pytest run (and so for every notebook kernel).
    assert settings.is_quick() and settings.is_offline()


def test_cache_dir_honours_env_and_is_created(monkeypatch, tmp_path):
    target = tmp_path / "nested" / "cache"
    monkeypatch.setenv("LLMSCRATCH_HOME", str(target))
    assert settings.cache_dir() == target and target.is_dir()


def test_cache_dir_default(monkeypatch, tmp_path):
    monkeypatch.delenv("LLMSCRATCH_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert settings.cache_dir() == tmp_path / ".cache" / "llmscratch"


def test_seed_everything_makes_runs_repeatable():
    settings.seed_everything(7)
    first = (random.random(), torch.rand(3))
    settings.seed_everything(7)
    second = (random.random(), torch.rand(3))
    assert first[0] == second[0] and torch.equal(first[1], second[1])
    settings.seed_everything(8)
    assert not torch.equal(torch.rand(3), first[1])
