"""Running one script on several processes: the helpers every DistributedDataParallel script needs.

``torchrun --nproc_per_node=N script.py`` starts N copies of a script and tells each who it is
through environment variables (``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``,
``MASTER_PORT``). This module is the one place that reads them (``settings`` reads our own
``LLMSCRATCH_*`` switches; these belong to the launcher) and wraps the set-up and tear-down:

- ``setup()``: join the process group (NCCL with one GPU per process, gloo on CPUs) and return a
  ``DistContext`` (rank, local rank, world size, device, backend). Run without torchrun it returns a
  one-process context and creates no process group, so the same script works both ways.
- ``teardown()``: leave the process group (safe to call when there is none).
- ``print0(...)``: print on rank 0 only, so N processes do not print every line N times.
- ``mean_across_ranks(x)``: the average of a number over all ranks (e.g. the loss each rank saw).
- ``exit_process()``: the one work-around we need for gloo's shutdown (see its docstring).

The appendix's ``ddp_train.py`` and ``llmscratch.training.pretrain`` both use these.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist

from ..device import get_device

TORCHRUN_VARS = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")
_created_group = False  # set by setup(): exit_process() only needs its work-around after a process group


@dataclass(frozen=True)
class DistContext:
    """Who this process is. ``world_size == 1`` and ``backend is None`` for a plain one-process run."""

    rank: int
    local_rank: int
    world_size: int
    device: torch.device
    backend: str | None

    @property
    def is_main(self) -> bool:
        """True on rank 0, the process that prints, logs and writes checkpoints."""
        return self.rank == 0


def launched_by_torchrun() -> bool:
    """True when every variable ``torchrun`` sets is present."""
    return all(name in os.environ for name in TORCHRUN_VARS)


def require_torchrun(example: str) -> None:
    """Exit with a clear message when a DDP-only script was started without ``torchrun``."""
    missing = [name for name in TORCHRUN_VARS if name not in os.environ]
    if missing:
        raise SystemExit(f"{', '.join(missing)} not set: launch this script with torchrun, e.g. `{example}`")


def is_distributed() -> bool:
    """True inside an initialized process group."""
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    """This process's rank (0 without a process group)."""
    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    """Number of processes in the group (1 without a process group)."""
    return dist.get_world_size() if is_distributed() else 1


def print0(*args, **kwargs) -> None:
    """``print`` on rank 0 only (flushes, so lines from a torchrun job appear in order)."""
    if rank() == 0:
        print(*args, **{"flush": True, **kwargs})


def _pick_backend_and_device(local_rank: int, device: torch.device | None) -> tuple[str, torch.device]:
    """NCCL with one GPU per process when CUDA is available, else gloo on the CPU.

    Apple's MPS has no multi-process backend, so a Mac trains its ranks on the CPU.
    """
    device = device or get_device()
    if device.type == "cuda":
        n_gpus = torch.cuda.device_count()
        if local_rank >= n_gpus:
            raise RuntimeError(
                f"local rank {local_rank} needs GPU {local_rank}, but only {n_gpus} GPU(s) are visible; "
                f"launch at most --nproc_per_node={n_gpus}"
            )
        torch.cuda.set_device(local_rank)
        return "nccl", torch.device("cuda", local_rank)
    return "gloo", torch.device("cpu")


def setup(device: torch.device | None = None, *, timeout_s: float = 60.0) -> DistContext:
    """Join the process group if launched by torchrun; otherwise describe a one-process run.

    ``device`` is the device a one-process run uses (default: ``get_device()``); under torchrun each
    rank gets ``cuda:<local_rank>`` on GPUs and the CPU otherwise. ``timeout_s`` turns a crashed
    peer into an error after a minute instead of a silent half-hour hang.
    """
    global _created_group
    if not launched_by_torchrun():
        return DistContext(rank=0, local_rank=0, world_size=1, device=device or get_device(), backend=None)
    rank_, local_rank = int(os.environ["RANK"]), int(os.environ["LOCAL_RANK"])
    world = int(os.environ["WORLD_SIZE"])
    backend, device = _pick_backend_and_device(local_rank, device)
    if not is_distributed():
        # Rendezvous: every rank connects to MASTER_ADDR:MASTER_PORT (read from the environment).
        dist.init_process_group(
            backend=backend, rank=rank_, world_size=world, timeout=timedelta(seconds=timeout_s)
        )
        _created_group = True
    return DistContext(rank=rank_, local_rank=local_rank, world_size=world, device=device, backend=backend)


def teardown() -> None:
    """Leave the process group; a no-op without one. Call it in a ``finally`` block."""
    if is_distributed():
        dist.destroy_process_group()


def barrier() -> None:
    """Wait until every rank gets here (a no-op in a one-process run)."""
    if is_distributed():
        dist.barrier()


def mean_across_ranks(value: float, device: torch.device | None = None) -> float:
    """The mean of ``value`` over all ranks (``value`` itself in a one-process run).

    NCCL only reduces GPU tensors, so pass the rank's device there.
    """
    if not is_distributed():
        return float(value)
    t = torch.tensor([float(value)], dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return float(t.item()) / dist.get_world_size()


def exit_process(code: int = 0) -> None:
    """Leave the interpreter at once after a distributed run, skipping Python's shutdown sequence.

    Why: with the gloo backend, PyTorch (seen with torch 2.13.0 on Linux, CPU build) keeps the
    process group's worker threads alive until interpreter shutdown, and when one of them still
    holds a Python object it can abort the process there ("terminate called without an active
    exception"; about one run in ten on our 2-core machine), turning a finished run into a failure.
    Call it last, after ``teardown()`` and after everything is written: ``os._exit`` skips
    ``atexit`` handlers and does not flush Python's buffers, so this flushes stdout and stderr first.
    Without a process group in this process it simply returns, so a one-process run exits normally.
    """
    if not _created_group:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
