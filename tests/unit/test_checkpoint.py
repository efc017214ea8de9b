"""Checkpoints: exact round trip, atomic under SIGKILL, never run code, and explain every mismatch."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from llmscratch.model.config import GPTConfig
from llmscratch.model.gpt import GPTModel
from llmscratch.training.checkpoint import (
    CheckpointError,
    load_checkpoint,
    load_state_dict_file,
    load_weights,
    read_safetensors,
    save_checkpoint,
    save_weights,
    weights_config,
)
from llmscratch.training.history import History, Position
from llmscratch.training.schedules import WarmupCosine

SHARED = Path(__file__).resolve().parents[2] / "shared"
CFG = GPTConfig(vocab_size=50, context_length=8, emb_dim=16, n_heads=2, n_layers=1)


def _trained(seed: int = 0, cfg: GPTConfig = CFG):
    torch.manual_seed(seed)
    model = GPTModel(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    for _ in range(2):
        ids = torch.randint(0, cfg.vocab_size, (2, cfg.context_length))
        opt.zero_grad()
        model(ids).logsumexp(-1).mean().backward()
        opt.step()
    return model, opt


def test_round_trip_restores_model_optimizer_rng_history_and_schedule(tmp_path):
    model, opt = _trained()
    history = History(
        steps=[0, 2],
        train_losses=[3.9, 3.5],
        val_losses=[4.0, 3.7],
        samples=[(2, "hi")],
        position=Position(step=2, epoch=0, batch_in_epoch=2, tokens_seen=32),
    )
    schedule = WarmupCosine(1e-2, 1, 10)
    path = save_checkpoint(
        tmp_path / "c.safetensors", model, opt, history=history, schedule=schedule, extra={"note": "x"}
    )
    expected_draw = torch.rand(3)  # the RNG stream right after saving

    fresh, fresh_opt = _trained(seed=1)
    restored = load_checkpoint(path, fresh, fresh_opt)
    assert torch.equal(torch.rand(3), expected_draw), "the RNG state must come back"
    for (name, a), b in zip(model.state_dict().items(), fresh.state_dict().values()):
        assert torch.equal(a, b), name
    assert fresh.out_head.weight is fresh.emb.tok_emb.weight, "weight tying survives"
    for p, q in zip(model.parameters(), fresh.parameters()):  # Adam's moments, parameter by parameter
        assert all(torch.equal(opt.state[p][k], fresh_opt.state[q][k]) for k in opt.state[p])
    assert fresh_opt.param_groups[0]["betas"] == opt.param_groups[0]["betas"]
    assert restored.history == history and restored.schedule == schedule and restored.extra == {"note": "x"}
    assert restored.config["emb_dim"] == CFG.emb_dim


def test_a_process_killed_mid_save_leaves_the_previous_checkpoint_intact(tmp_path):
    """The child saves checkpoint 1, then dies (SIGKILL) half-way through writing checkpoint 2."""
    path = tmp_path / "c.safetensors"
    child = textwrap.dedent(f"""
        import contextlib, os, signal, sys
        sys.path.insert(0, {str(SHARED)!r})
        import torch
        from llmscratch.training import checkpoint
        from llmscratch.model.config import GPTConfig
        from llmscratch.model.gpt import GPTModel
        torch.manual_seed(0)
        model = GPTModel(GPTConfig(**{CFG.__dict__!r}))
        checkpoint.save_checkpoint({str(path)!r}, model)
        with torch.no_grad():
            for p in model.parameters():
                p.add_(1.0)
        real = checkpoint.atomic_write

        @contextlib.contextmanager
        def dies_half_way(target, mode="wb", **kw):
            with real(target, mode, **kw) as f:
                class Half:
                    def write(self, data):
                        f.write(data[: len(data) // 2])
                        f.flush()
                        os.kill(os.getpid(), signal.SIGKILL)
                yield Half()

        checkpoint.atomic_write = dies_half_way
        checkpoint.save_checkpoint({str(path)!r}, model)
        print("not reached")
    """)
    proc = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert "not reached" not in proc.stdout
    torch.manual_seed(0)
    first = GPTModel(CFG)
    loaded = GPTModel(CFG.with_(drop_rate=0.0))
    load_checkpoint(path, loaded, restore_rng=False)
    for a, b in zip(first.state_dict().values(), loaded.state_dict().values()):
        assert torch.equal(a, b), "the checkpoint must be the first, complete one"
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")]
    assert leftovers, "the half-written bytes went to a temporary file, not to the checkpoint"
    save_checkpoint(path, loaded)  # a later save is not disturbed by the leftover
    load_checkpoint(path, GPTModel(CFG))


class _Evil:
    """A pickle that runs code when loaded: it would create the marker file."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


@pytest.mark.parametrize("payload", ["bare", "inside_state_dict"])
def test_a_malicious_pickle_is_refused_and_runs_nothing(tmp_path, payload):
    marker = tmp_path / "pwned"
    path = tmp_path / "weights.pt"
    obj = _Evil(marker) if payload == "bare" else {"emb.tok_emb.weight": torch.zeros(2), "x": _Evil(marker)}
    torch.save(obj, path)
    with pytest.raises(
        CheckpointError, match=r"refused to load .*weights\.pt.*would run code.*weights_only=True"
    ):
        load_state_dict_file(path)
    with pytest.raises(CheckpointError, match="refused to load"):
        load_weights(path, GPTModel(CFG))
    assert not marker.exists(), "the pickle's code must never run"


def test_a_plain_state_dict_pickle_loads(tmp_path):
    model, _ = _trained()
    torch.save(model.state_dict(), tmp_path / "ok.pt")
    fresh = load_weights(tmp_path / "ok.pt", GPTModel(CFG))
    assert torch.equal(fresh.blocks[0].ff.fc.weight, model.blocks[0].ff.fc.weight)


def test_a_checkpoint_from_another_config_names_keys_and_shapes(tmp_path):
    model, opt = _trained()
    path = save_checkpoint(tmp_path / "c.safetensors", model, opt)
    other = GPTModel(CFG.with_(emb_dim=24, n_layers=2))
    with pytest.raises(CheckpointError, match="does not fit|mismatch|checkpoint c.safetensors") as info:
        load_checkpoint(path, other)
    message = str(info.value)
    assert "blocks.0.att.W_key.bias: checkpoint c.safetensors (16,) vs model (24,)" in message
    assert "missing from checkpoint c.safetensors" in message and "blocks.1.att.W_query.weight" in message
    assert "emb_dim=16 (model: 24)" in message and "n_layers=1 (model: 2)" in message


def test_weights_files_round_trip_with_their_config(tmp_path):
    model, _ = _trained()
    path = save_weights(tmp_path / "m.safetensors", model)
    assert weights_config(path)["emb_dim"] == 16
    fresh = load_weights(path, GPTModel(CFG))
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), fresh.state_dict().values()))
    with pytest.raises(CheckpointError, match="not an llmscratch training checkpoint"):
        load_checkpoint(path, GPTModel(CFG))
    with pytest.raises(CheckpointError, match=r"n_layers=1 \(model: 3\)"):
        load_weights(path, GPTModel(CFG.with_(n_layers=3)))


def test_weights_files_keep_extra_metadata(tmp_path):
    model, _ = _trained()
    path = save_weights(tmp_path / "m.safetensors", model, metadata={"note": "hello"})
    assert read_safetensors(path)[1]["note"] == "hello" and weights_config(path)["emb_dim"] == 16
    with pytest.raises(ValueError, match=r"metadata\['config'\] must be a str and not 'aliases' or 'config'"):
        save_weights(tmp_path / "x.safetensors", model, metadata={"config": "{}"})
    with pytest.raises(ValueError, match=r"metadata\['n'\] must be a str"):
        save_weights(tmp_path / "x.safetensors", model, metadata={"n": 3})


@pytest.mark.parametrize("keep", [4, 100, -50])
def test_a_truncated_file_gets_a_clear_error(tmp_path, keep):
    model, opt = _trained()
    path = save_checkpoint(tmp_path / "c.safetensors", model, opt)
    data = path.read_bytes()
    path.write_bytes(data[:keep] if keep > 0 else data[:keep])
    with pytest.raises(CheckpointError, match="truncated"):
        load_checkpoint(path, GPTModel(CFG))
    with pytest.raises(CheckpointError, match="truncated"):
        read_safetensors(path)


def test_a_truncated_pickle_gets_a_clear_error(tmp_path):
    model, _ = _trained()
    torch.save(model.state_dict(), tmp_path / "w.pt")
    (tmp_path / "w.pt").write_bytes((tmp_path / "w.pt").read_bytes()[:500])
    with pytest.raises(CheckpointError, match="truncated or not a PyTorch file"):
        load_state_dict_file(tmp_path / "w.pt")


def test_optimizer_state_is_required_when_asked_for(tmp_path):
    model, opt = _trained()
    path = save_checkpoint(tmp_path / "c.safetensors", model)
    with pytest.raises(CheckpointError, match="holds no optimizer state"):
        load_checkpoint(path, GPTModel(CFG), opt)
