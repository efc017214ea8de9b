"""Without torchrun the helpers describe a one-process run; the two-process run is in tests/integration."""

from __future__ import annotations

import pytest
import torch

from llmscratch.training import distributed


@pytest.fixture
def no_torchrun(monkeypatch):
    for name in distributed.TORCHRUN_VARS:
        monkeypatch.delenv(name, raising=False)


def test_one_process_context(no_torchrun):
    ctx = distributed.setup(torch.device("cpu"))
    assert (ctx.rank, ctx.local_rank, ctx.world_size, ctx.backend, ctx.is_main) == (0, 0, 1, None, True)
    assert not distributed.is_distributed() and distributed.rank() == 0 and distributed.world_size() == 1
    assert distributed.mean_across_ranks(2.5) == 2.5
    distributed.barrier()
    distributed.teardown()  # no group: nothing to do, no error
    distributed.exit_process()  # returns: no process group was created here


def test_print0_prints_on_rank_zero(no_torchrun, capsys):
    distributed.print0("hello", 3)
    assert capsys.readouterr().out == "hello 3\n"


def test_require_torchrun_names_the_missing_variables(no_torchrun):
    with pytest.raises(
        SystemExit,
        match="RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT not set: launch this script with torchrun",
    ):
        distributed.require_torchrun("torchrun --nproc_per_node=2 x.py")
