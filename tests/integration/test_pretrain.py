"""``python -m llmscratch.training.pretrain`` for real, in subprocesses: DDP on two CPU processes, SIGKILL and resume, bad corpora.

The model is tiny (16 dims, one block, 16-token context) so each run takes seconds; the
GPT-2 vocabulary (50,257 tokens) still makes the output layer the largest part of it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from llmscratch.assets import ASSET_DIR, DEFAULT_STORY

ROOT = Path(__file__).resolve().parents[2]
STORY = ASSET_DIR / f"{DEFAULT_STORY}.txt"
TIMEOUT_S = 180
MICRO = [
    "--model",
    "tiny",
    "--emb-dim",
    "16",
    "--n-heads",
    "2",
    "--n-layers",
    "1",
    "--context-length",
    "16",
    "--drop-rate",
    "0.1",
    "--precision",
    "fp32",
    "--no-progress",
    "--sample-prompt",
    "",
    "--eval-batches",
    "2",
]
# Per-rank loss differences between one process with batch 4 and two with batch 2 each come only from
# the order of floating-point sums (the gradient all-reduce vs one batch mean).
DDP_ATOL = 1e-4


def _env() -> dict[str, str]:
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "CUDA_VISIBLE_DEVICES": "",
        "PYTHONPATH": str(ROOT / "shared"),
    }
    for name in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(name, None)
    return env


def _pretrain(out_dir: Path, *extra: str, nproc: int = 1, data: Path = STORY) -> subprocess.CompletedProcess:
    if nproc == 1:
        cmd = [sys.executable, "-m", "llmscratch.training.pretrain"]
    else:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        cmd = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            f"--nproc_per_node={nproc}",
            "--master_addr=127.0.0.1",
            f"--master_port={port}",
            "-m",
            "llmscratch.training.pretrain",
        ]
    try:
        return subprocess.run(
            cmd + [str(data), "--out-dir", str(out_dir), *MICRO, *extra],
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            env=_env(),
            cwd=ROOT,
        )
    except subprocess.TimeoutExpired as err:
        pytest.fail(
            f"pretrain did not finish within {TIMEOUT_S} s\nstdout:\n{err.stdout}\nstderr:\n{err.stderr}"
        )


def _history(out_dir: Path) -> dict:
    return json.loads((out_dir / "history.json").read_text())


def _ok(proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode == 0, (
        f"exit code {proc.returncode}\nstdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-5000:]}"
    )


@pytest.mark.slow
def test_two_processes_match_one_process_on_the_same_global_batch(tmp_path):
    """Two gloo ranks with 2 windows each take the same steps as one process with 4 windows."""
    common = [
        "--batch-size",
        "4",
        "--max-steps",
        "8",
        "--eval-every",
        "4",
        "--drop-rate",
        "0.0",
        "--seed",
        "11",
    ]
    _ok(_pretrain(tmp_path / "one", *common))
    common[1] = "2"
    proc = _pretrain(tmp_path / "two", *common, nproc=2)
    _ok(proc)
    one, two = _history(tmp_path / "one"), _history(tmp_path / "two")
    assert "2 process(es)" in proc.stdout and "global batch 4 x 16" in proc.stdout
    assert one["position"]["tokens_seen"] == two["position"]["tokens_seen"] == 8 * 4 * 16
    diffs = [abs(a - b) for a, b in zip(one["step_losses"], two["step_losses"])]
    assert len(diffs) == 8 and max(diffs) <= DDP_ATOL, f"step losses differ by up to {max(diffs):.2e}"
    assert max(abs(a - b) for a, b in zip(one["val_losses"], two["val_losses"])) <= DDP_ATOL
    from llmscratch.training.safe_files import read_safetensors

    w1, _ = read_safetensors(tmp_path / "one" / "model.safetensors")
    w2, _ = read_safetensors(tmp_path / "two" / "model.safetensors")
    worst = max((w1[k] - w2[k]).abs().max().item() for k in w1)
    assert worst <= DDP_ATOL, f"final weights differ by up to {worst:.2e}"


def _wait_for_step(log: Path, proc: subprocess.Popen, step: int) -> int:
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(
                f"the run ended (code {proc.returncode}) before it could be killed: {proc.stderr.read()[-3000:]}"
            )
        lines = log.read_text().splitlines() if log.exists() else []
        if len(lines) >= step:
            return len(lines)
        time.sleep(0.01)
    pytest.fail(f"no step {step} within {TIMEOUT_S} s")


@pytest.mark.slow
def test_sigkill_then_resume_gives_the_uninterrupted_losses(tmp_path):
    """Model, optimizer, schedule, data position and RNG (dropout is on) all come back from the checkpoint."""
    args = [
        "--batch-size",
        "2",
        "--epochs",
        "2",
        "--max-steps",
        "30",
        "--eval-every",
        "10",
        "--checkpoint-every",
        "5",
        "--seed",
        "3",
    ]
    _ok(_pretrain(tmp_path / "reference", *args))
    reference = _history(tmp_path / "reference")

    out = tmp_path / "killed"
    cmd = [
        sys.executable,
        "-m",
        "llmscratch.training.pretrain",
        str(STORY),
        "--out-dir",
        str(out),
        *MICRO,
        *args,
    ]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=ROOT
    )
    try:
        _wait_for_step(out / "log.jsonl", proc, 12)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    last_logged = max(json.loads(line)["step"] for line in (out / "log.jsonl").read_text().splitlines())
    assert last_logged < 30 and not (out / "history.json").exists(), (
        "the run must really have been interrupted"
    )

    proc = _pretrain(out, *args, "--resume")
    _ok(proc)
    resumed_at = int(proc.stdout.split("resumed from ")[1].split(" at step ")[1].split()[0])
    assert resumed_at % 5 == 0 and 0 < last_logged - resumed_at <= 5, (
        f"killed after step {last_logged}, resumed at {resumed_at}: lost more than the steps since the last checkpoint"
    )
    resumed = _history(out)
    assert resumed["step_losses"] == reference["step_losses"], "the resumed run must compute the same losses"
    assert resumed["val_losses"] == reference["val_losses"] and resumed["position"] == reference["position"]
    logged = [json.loads(line)["step"] for line in (out / "log.jsonl").read_text().splitlines()]
    assert logged == list(range(1, 31)), "each step is logged once, also those redone after the kill"


def test_a_corpus_too_small_for_one_batch_says_both_numbers(tmp_path):
    tiny = tmp_path / "tiny.txt"
    tiny.write_text("Only a few words here, far too few for a batch. " * 3)
    proc = _pretrain(tmp_path / "out", "--batch-size", "8", data=tiny)
    assert proc.returncode == 2
    assert "corpus too small: the training split has" in proc.stderr
    assert "8 window(s) of 16 tokens (stride 16) need at least 129" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_folder_of_texts_and_bad_options(tmp_path):
    proc = _pretrain(tmp_path / "out", "--batch-size", "0")
    assert proc.returncode == 2 and "--batch-size must be at least 1, got 0" in proc.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = _pretrain(tmp_path / "out", data=empty)
    assert proc.returncode != 0 and "holds no .txt or .md files" in proc.stderr


# ---- resume safety, crash leftovers, one-line errors ------------------------------------------------

QUICK = [
    "--batch-size",
    "2",
    "--max-steps",
    "4",
    "--checkpoint-every",
    "2",
    "--eval-every",
    "2",
    "--seed",
    "5",
]


def _one_line_error(proc: subprocess.CompletedProcess, *fragments: str) -> None:
    assert proc.returncode == 2, f"exit code {proc.returncode}\nstderr:\n{proc.stderr[-3000:]}"
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1, proc.stderr
    for fragment in fragments:
        assert fragment in proc.stderr, proc.stderr


def test_resume_refuses_other_settings_unless_overridden_and_logs_each_step_once(tmp_path):
    out = tmp_path / "run"
    _ok(_pretrain(out, *QUICK))
    log = out / "log.jsonl"
    assert [json.loads(line)["step"] for line in log.read_text().splitlines()] == [1, 2, 3, 4]
    # what a run killed after its last checkpoint leaves: steps past the checkpoint and a torn line
    with open(log, "a") as f:
        f.write(
            json.dumps({"step": 5, "loss": 1.0}) + "\n" + json.dumps({"step": 6, "loss": 1.0}) + "\n" + '{"st'
        )
    proc = _pretrain(out, *QUICK, "--resume", "--batch-size", "3", "--lr", "1e-3")
    _one_line_error(
        proc, "saved with other settings", "batch_size: 2 -> 3", "lr: 0.0004 -> 0.001", "--override-resume"
    )
    assert log.read_text().count("\n") == 6, "a refused resume changes nothing"
    proc = _pretrain(out, *QUICK, "--resume", "--eval-every", "1")  # how the run is watched may change
    _ok(proc)
    assert "resumed from" in proc.stdout and "dropped 3 line(s)" in proc.stdout
    assert [json.loads(line)["step"] for line in log.read_text().splitlines()] == [1, 2, 3, 4]
    proc = _pretrain(out, *QUICK[:-2], "--seed", "6", "--resume", "--override-resume")
    _ok(proc)
    assert "--override-resume: continuing with new settings (seed: 5 -> 6)" in proc.stdout


def test_resume_without_retyping_the_options_continues_the_saved_run(tmp_path):
    """The documented ``--out-dir runs/x --resume``: options not typed again take their saved values."""
    out = tmp_path / "run"
    _ok(_pretrain(out, *QUICK))  # batch 2, 4 steps, seed 5
    proc = _pretrain(out, "--resume")  # batch size, steps and seed not typed again
    _ok(proc)
    assert "saved settings: batch_size=2, max_steps=4, seed=5" in proc.stdout
    assert "resumed from" in proc.stdout
    steps = [json.loads(line)["step"] for line in (out / "log.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4]


def test_bad_files_devices_and_options_are_one_line_errors(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    torch.save({"w": torch.zeros(2)}, out / "checkpoint.safetensors")  # a pickle under a safetensors name
    _one_line_error(_pretrain(out, *QUICK, "--resume"), "is a PyTorch pickle", "refused", "can run code")
    (out / "checkpoint.safetensors").write_bytes((8).to_bytes(8, "little") + b'{"a": 1')
    _one_line_error(_pretrain(out, *QUICK, "--resume"), "not a safetensors file")
    if not torch.cuda.is_available():
        _one_line_error(
            _pretrain(out, *QUICK, "--device", "cuda"), "device 'cuda' is not available on this machine"
        )
    _one_line_error(_pretrain(out, *QUICK, "--batch-size", "0"), "--batch-size must be at least 1, got 0")
    _one_line_error(_pretrain(out, *QUICK, "--lr", "fast"), "argument --lr: invalid float value: 'fast'")
    _one_line_error(
        _pretrain(out, *QUICK, "--override-resume"), "--override-resume only means something with --resume"
    )


def test_a_killed_saves_part_file_is_removed_and_outputs_are_complete(tmp_path):
    import socket as sock

    out = tmp_path / "run"
    out.mkdir()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    stale = out / f".checkpoint.safetensors.{sock.gethostname()}-{int(dead.stdout)}-abc.part"
    stale.write_bytes(b"\0" * 1000)
    proc = _pretrain(out, *QUICK)
    _ok(proc)
    assert not stale.exists() and f"removed {stale.name}" in proc.stdout
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["checkpoint.safetensors", "model.safetensors", "config.json", "history.json", "log.jsonl"]
    )
    assert json.loads((out / "config.json").read_text())["emb_dim"] == 16


def test_every_output_file_is_written_atomically(tmp_path, monkeypatch):
    """In-process: each file of OUTPUTS except the append-only log goes through fileio.atomic_write."""
    from llmscratch.fileio import atomic_write
    from llmscratch.training import checkpoint, pretrain, resume

    written = []

    def recording(path, *args, **kwargs):
        written.append(Path(path).name)
        return atomic_write(path, *args, **kwargs)

    monkeypatch.setattr(resume, "atomic_write", recording)  # config.json, history.json, log.jsonl
    monkeypatch.setattr(checkpoint, "atomic_write", recording)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    out = tmp_path / "run"
    pretrain.main([str(STORY), "--out-dir", str(out), *MICRO, *QUICK, "--device", "cpu"])
    assert set(written) == set(pretrain.OUTPUTS)  # log.jsonl: its fresh (empty) start; steps are appended
    assert sorted(p.name for p in out.iterdir()) == sorted(pretrain.OUTPUTS)
