"""The appendix's DistributedDataParallel script, launched for real: two CPU processes on loopback.

``torchrun`` (as ``python -m torch.distributed.run``) starts two ranks that rendezvous on
127.0.0.1 at a free port, train with the gloo backend and each write ``rank<r>.json``. The checks:

- both ranks end with bit-identical parameters (DDP averaged their gradients; without it the two
  copies would drift apart, because each rank trains on a different half of the data);
- the ``DistributedSampler`` split each epoch into disjoint halves that cover the whole dataset;
- the loss falls and the model beats chance on fresh validation points.

Also: the script refuses to run without torchrun, and rejects nonsense options, with clear messages.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "appendix_pytorch" / "ddp_train.py"
TIMEOUT_S = 45  # a healthy run takes about 5 s on 2 busy cores; a hung rendezvous must not block CI


def _free_port() -> int:
    """Ask the OS for a free TCP port on loopback (bind to port 0, read the port it chose)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cpu_env() -> dict[str, str]:
    # One math thread per rank (two ranks on two cores) and no GPU, so the test is the same everywhere.
    return {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}


def _run(args: list[str]) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(
            args, capture_output=True, text=True, timeout=TIMEOUT_S, env=_cpu_env(), cwd=SCRIPT.parent
        )
    except subprocess.TimeoutExpired as err:
        pytest.fail(
            f"{' '.join(args)} did not finish within {TIMEOUT_S} s.\nstdout:\n{err.stdout}\nstderr:\n{err.stderr}"
        )


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory) -> list[dict]:
    out_dir = tmp_path_factory.mktemp("ddp")
    n_samples, epochs = 1024, 5
    proc = _run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node=2",
            "--master_addr=127.0.0.1",
            f"--master_port={_free_port()}",
            str(SCRIPT),
            "--epochs",
            str(epochs),
            "--n-samples",
            str(n_samples),
            "--batch-size",
            "32",
            "--seed",
            "7",
            "--out-dir",
            str(out_dir),
        ]
    )
    if proc.returncode != 0:
        pytest.fail(
            f"torchrun exited with {proc.returncode}.\nstdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-5000:]}"
        )
    files = sorted(out_dir.glob("rank*.json"))
    assert [f.name for f in files] == ["rank0.json", "rank1.json"], (
        f"expected one result per rank, found {files}\nstderr:\n{proc.stderr[-3000:]}"
    )
    results = [json.loads(f.read_text()) for f in files]
    for result in results:
        result["n_samples"], result["epochs"], result["stdout"] = n_samples, epochs, proc.stdout
    return results


@pytest.mark.slow
def test_both_ranks_end_with_identical_parameters(two_ranks):
    rank0, rank1 = two_ranks
    assert (rank0["rank"], rank1["rank"]) == (0, 1)
    assert rank0["world_size"] == rank1["world_size"] == 2
    assert rank0["backend"] == rank1["backend"] == "gloo"
    assert rank0["n_params"] == rank1["n_params"] == len(rank0["params"]) > 0
    differing = sum(a != b for a, b in zip(rank0["params"], rank1["params"]))
    assert differing == 0, f"{differing} of {rank0['n_params']} parameters differ between rank 0 and rank 1"
    assert rank0["params_sha256"] == rank1["params_sha256"]


@pytest.mark.slow
def test_the_sampler_splits_each_epoch_between_the_ranks(two_ranks):
    rank0, rank1 = two_ranks
    seen0, seen1 = rank0["first_epoch_indices"], rank1["first_epoch_indices"]
    half = rank0["n_samples"] // 2
    assert len(seen0) == len(seen1) == half, (
        f"each rank should see {half} samples, saw {len(seen0)} and {len(seen1)}"
    )
    assert not set(seen0) & set(seen1), f"{len(set(seen0) & set(seen1))} samples went to both ranks"
    assert set(seen0) | set(seen1) == set(range(rank0["n_samples"]))


@pytest.mark.slow
def test_the_loss_falls_and_the_model_learns(two_ranks):
    rank0, rank1 = two_ranks
    losses = rank0["epoch_losses"]
    assert len(losses) == rank0["epochs"]
    assert losses == rank1["epoch_losses"], "the all-reduced epoch loss must be the same on every rank"
    assert all(later < earlier for earlier, later in zip(losses, losses[1:])), (
        f"the loss did not fall every epoch: {losses}"
    )
    assert losses[-1] < 0.5 * losses[0], f"the loss fell too little: {losses}"
    assert f"epoch {rank0['epochs']}/{rank0['epochs']}" in rank0["stdout"], "rank 0 should log every epoch"
    # XOR is not linearly separable: beating chance (0.5) by this margin needs the hidden layers.
    assert rank0["val_accuracy"] == rank1["val_accuracy"] > 0.8, rank0["val_accuracy"]


def test_refuses_to_run_without_torchrun():
    env = {
        k: v
        for k, v in _cpu_env().items()
        if k not in {"RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"}
    }
    proc = subprocess.run(
        [sys.executable, str(SCRIPT)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        env=env,
        cwd=SCRIPT.parent,
    )
    assert proc.returncode != 0
    assert "launch this script with torchrun" in proc.stderr and "RANK" in proc.stderr, proc.stderr


@pytest.mark.parametrize("option", ["--epochs", "--batch-size", "--n-samples"])
def test_rejects_non_positive_sizes(option):
    proc = _run([sys.executable, str(SCRIPT), option, "0"])
    assert proc.returncode == 2, proc.stderr
    assert f"{option} must be at least 1, got 0" in proc.stderr
