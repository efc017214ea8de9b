"""testing: the handover check must fail loudly (with numbers) when modules differ."""

import pytest
import torch
from torch import nn

from llmscratch.testing import assert_close, assert_same_module


def test_assert_close_reports_max_and_mean():
    with pytest.raises(AssertionError, match=r"max abs diff 5.000e-01, mean 2.500e-01"):
        assert_close(torch.tensor([1.0, 2.5]), torch.tensor([1.0, 2.0]))
    assert assert_close(torch.tensor([1.0]), torch.tensor([1.0 + 1e-7]), atol=1e-6) < 1e-6


def test_assert_close_shape_mismatch():
    with pytest.raises(AssertionError, match="shape"):
        assert_close(torch.zeros(2), torch.zeros(3))


def test_same_module_passes_for_equal_architectures():
    torch.manual_seed(0)
    assert assert_same_module(nn.Linear(3, 2), nn.Linear(3, 2), torch.randn(4, 3)) == 0.0


def test_same_module_fails_on_different_computation():
    class Doubled(nn.Linear):
        def forward(self, x):
            return 2 * super().forward(x)

    with pytest.raises(AssertionError, match="Doubled vs hand-built Linear differ"):
        assert_same_module(nn.Linear(3, 2), Doubled(3, 2), torch.randn(4, 3))


def test_same_module_fails_on_mismatched_keys():
    with pytest.raises(RuntimeError, match="Missing key|Unexpected key"):
        assert_same_module(nn.Linear(3, 2, bias=False), nn.Linear(3, 2), torch.randn(4, 3))
