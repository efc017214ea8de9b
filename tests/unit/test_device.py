"""device: one place that picks cuda -> mps -> cpu."""

import torch

from llmscratch.device import describe_device, get_device


def test_explicit_name_wins():
    assert get_device("cpu") == torch.device("cpu")


def test_auto_detection_order(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert get_device().type == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert get_device().type == "mps"
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert get_device().type == "cpu"


def test_describe_cpu():
    assert describe_device(torch.device("cpu")).startswith("cpu (")
