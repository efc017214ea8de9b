"""GPT-2 from the hub: sizes, offline behaviour, GPT-2's safetensors layout, truncation, and a loopback download.

Nothing here touches the internet: the "hub" is an HTTP server on 127.0.0.1 that this test starts,
serving a small model file in GPT-2's layout that the test writes. ``huggingface_hub`` downloads
from it through the ``endpoint`` argument.
"""

from __future__ import annotations

import time

import pytest
import torch
from safetensors.torch import save_file

from llmscratch.model.config import GPTConfig
from llmscratch.model.gpt import GPTModel
from llmscratch.training.safe_files import CheckpointError
from llmscratch.weights import hub
from llmscratch.weights.gpt2 import to_gpt2_state_dict
from tests.loopback_hub import loopback_hub

SMALL = GPTConfig(vocab_size=60, context_length=16, emb_dim=32, n_heads=4, n_layers=2, drop_rate=0.0)


def _gpt2_layout_file(tmp_path, cfg: GPTConfig = SMALL):
    """A random model saved like openai-community/gpt2's model.safetensors (GPT2Model names, no prefix, no lm_head)."""
    torch.manual_seed(3)
    model = GPTModel(cfg).eval()
    state = {
        k.removeprefix("transformer."): v
        for k, v in to_gpt2_state_dict(model).items()
        if k != "lm_head.weight"
    }
    for i in range(cfg.n_layers):  # old exports also carry the causal-mask buffer: it must be skipped
        state[f"h.{i}.attn.bias"] = torch.tril(torch.ones(1, 1, cfg.context_length, cfg.context_length))
    path = tmp_path / "model.safetensors"
    save_file(state, path, metadata={"format": "pt"})
    return model, path


def test_a_gpt2_layout_file_loads_into_our_model(tmp_path):
    reference, path = _gpt2_layout_file(tmp_path)
    loaded = hub.load_gpt2_safetensors(path, SMALL, device="cpu")
    ids = torch.randint(0, SMALL.vocab_size, (2, 10))
    torch.testing.assert_close(loaded(ids), reference(ids), rtol=0, atol=0)
    assert not loaded.training


def test_a_truncated_weights_file_gets_a_clear_error(tmp_path):
    _, path = _gpt2_layout_file(tmp_path)
    path.write_bytes(path.read_bytes()[:-1000])
    with pytest.raises(
        CheckpointError,
        match=r"model\.safetensors is truncated: it has [\d,]+ bytes but its header describes [\d,]+",
    ):
        hub.load_gpt2_safetensors(path, SMALL)


def test_a_file_of_another_size_names_the_key_and_shapes(tmp_path):
    _, path = _gpt2_layout_file(tmp_path)
    with pytest.raises(ValueError, match=r"'wte.weight' has shape \(60, 32\) but the model needs \(60, 48\)"):
        hub.load_gpt2_safetensors(path, SMALL.with_(emb_dim=48))


@pytest.mark.parametrize("size", ["125M", "gpt2-huge", "", "124m "])
def test_an_unknown_size_is_explained(size):
    with pytest.raises(ValueError, match=r"unknown GPT-2 size .*choose one of 124M, 355M, 774M, 1558M"):
        hub.gpt2_config(size)


@pytest.mark.parametrize("size, layers", [("124M", 12), ("355m", 24), ("gpt2-774M", 36), ("1558M", 48)])
def test_known_sizes_and_their_pinned_revisions(size, layers):
    assert hub.gpt2_config(size).n_layers == layers
    repo, revision = hub.GPT2_REPOS[size.upper().removeprefix("GPT2-")]
    assert repo.startswith("openai-community/gpt2") and len(revision) == 40 and int(revision, 16) >= 0


def test_offline_mode_gives_one_line_and_none(capsys, monkeypatch):
    monkeypatch.setenv("LLMSCRATCH_OFFLINE", "1")
    with pytest.raises(hub.HubUnavailable, match=r"offline mode is on \(LLMSCRATCH_OFFLINE=1\)"):
        hub.download_gpt2("124M")
    assert hub.try_load_gpt2("124M") is None
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith("GPT-2 124M not loaded:"), out


@pytest.fixture
def fake_hub():
    with loopback_hub() as served:  # serves nothing until a test adds files
        yield served


def test_download_from_a_loopback_hub_at_the_pinned_revision(tmp_path, fake_hub, monkeypatch):
    monkeypatch.setenv("LLMSCRATCH_OFFLINE", "0")
    reference, path = _gpt2_layout_file(tmp_path)
    repo, revision = hub.GPT2_REPOS["124M"]
    fake_hub.files[f"/{repo}/resolve/{revision}/model.safetensors"] = path.read_bytes()
    got = hub.download_gpt2("124M", cache=tmp_path / "cache", endpoint=fake_hub.endpoint)
    assert got.read_bytes() == path.read_bytes()
    assert any(revision in r for r in fake_hub.requests), "the pinned revision must be requested"
    model = hub.load_gpt2_safetensors(got, SMALL)
    ids = torch.randint(0, SMALL.vocab_size, (1, 8))
    torch.testing.assert_close(model(ids), reference(ids), rtol=0, atol=0)


def test_a_hub_error_becomes_one_clear_line(tmp_path, fake_hub, monkeypatch):
    # the hub serves nothing: every file is a 404
    monkeypatch.setenv("LLMSCRATCH_OFFLINE", "0")
    with pytest.raises(
        hub.HubUnavailable, match=r"could not download GPT-2 355M from openai-community/gpt2-medium: "
    ):
        hub.download_gpt2("355M", cache=tmp_path / "cache", endpoint=fake_hub.endpoint)


def test_a_cached_download_is_used_offline_without_the_network(tmp_path, fake_hub, monkeypatch):
    monkeypatch.setenv("LLMSCRATCH_OFFLINE", "0")
    _, path = _gpt2_layout_file(tmp_path)
    repo, revision = hub.GPT2_REPOS["124M"]
    fake_hub.files[f"/{repo}/resolve/{revision}/model.safetensors"] = path.read_bytes()
    first = hub.download_gpt2("124M", cache=tmp_path / "cache", endpoint=fake_hub.endpoint)
    seen = len(fake_hub.requests)
    monkeypatch.setenv("LLMSCRATCH_OFFLINE", "1")
    again = hub.download_gpt2("124M", cache=tmp_path / "cache", endpoint=fake_hub.endpoint)
    assert again == first and again.read_bytes() == path.read_bytes()
    assert len(fake_hub.requests) == seen, "a cached file must not touch the network"


def test_no_dns_fails_at_once_instead_of_retrying(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMSCRATCH_OFFLINE", "0")
    started = time.perf_counter()
    with pytest.raises(hub.HubUnavailable, match=r"no network here \(cannot resolve no-such-host\.invalid\)"):
        hub.download_gpt2("124M", cache=tmp_path / "cache", endpoint="http://no-such-host.invalid")
    assert time.perf_counter() - started < 10  # the hub client's own retries take ~25 s
