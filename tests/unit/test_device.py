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


def test_a_missing_device_is_refused_in_one_line(monkeypatch):
    import pytest

    from llmscratch.device import DeviceUnavailable, available_devices

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert available_devices() == ["cpu"]
    for name in ("cuda", "cuda:1", "mps"):
        with pytest.raises(
            DeviceUnavailable, match=f"device '{name}' is not available on this machine \\(available: cpu\\)"
        ):
            get_device(name)
    with pytest.raises(ValueError, match="'gpu' is not a device name; use one of: cpu"):
        get_device("gpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert get_device("cuda:0") == torch.device("cuda:0")
    with pytest.raises(DeviceUnavailable, match="has 1 CUDA device"):
        get_device("cuda:1")
