"""config: GPTConfig defaults, the GPT-2 presets, immutability, ``with_`` and bad input."""

from __future__ import annotations

import dataclasses

import pytest

from llmscratch.constants import GPT2_VOCAB_SIZE
from llmscratch.model.config import GPT2_124M, GPT2_355M, GPT2_774M, GPT2_1558M, PRESETS, TINY, GPTConfig


def test_defaults_are_gpt2_small():
    assert GPTConfig() == GPT2_124M
    assert (GPT2_124M.vocab_size, GPT2_124M.context_length, GPT2_124M.emb_dim) == (GPT2_VOCAB_SIZE, 1024, 768)
    assert (GPT2_124M.n_heads, GPT2_124M.n_layers) == (12, 12)
    assert GPT2_124M.qkv_bias and GPT2_124M.tie_embeddings


@pytest.mark.parametrize(
    "cfg, emb_dim, n_layers, n_heads",
    [
        (GPT2_124M, 768, 12, 12),
        (GPT2_355M, 1024, 24, 16),
        (GPT2_774M, 1280, 36, 20),
        (GPT2_1558M, 1600, 48, 25),
    ],
)
def test_gpt2_presets_match_the_published_sizes(cfg, emb_dim, n_layers, n_heads):
    """Radford et al. (2019), table 2, and OpenAI's released hparams.json files."""
    assert (cfg.emb_dim, cfg.n_layers, cfg.n_heads) == (emb_dim, n_layers, n_heads)
    assert cfg.head_dim == 64  # every GPT-2 size keeps 64-dim heads
    assert (cfg.vocab_size, cfg.context_length, cfg.qkv_bias) == (GPT2_VOCAB_SIZE, 1024, True)


def test_tiny_is_small_but_reads_gpt2_token_ids():
    assert TINY.vocab_size == GPT2_VOCAB_SIZE
    assert TINY.emb_dim * TINY.n_layers < GPT2_124M.emb_dim
    assert set(PRESETS.values()) >= {GPT2_124M, GPT2_355M, GPT2_774M, GPT2_1558M, TINY}


def test_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'drop_rate'"):
        GPT2_124M.drop_rate = 0.0


def test_with_changes_a_copy_and_validates_again():
    cfg = GPT2_124M.with_(drop_rate=0.0, n_layers=2)
    assert (cfg.drop_rate, cfg.n_layers, cfg.emb_dim) == (0.0, 2, 768)
    assert GPT2_124M.drop_rate == 0.1  # the preset is untouched
    with pytest.raises(ValueError, match="emb_dim=768 is not divisible by n_heads=7"):
        GPT2_124M.with_(n_heads=7)
    with pytest.raises(TypeError, match=r"no field\(s\) \['emb_size'\]"):
        GPT2_124M.with_(emb_size=10)


@pytest.mark.parametrize(
    "changes, message",
    [
        (
            dict(emb_dim=100, n_heads=12),
            r"emb_dim=100 is not divisible by n_heads=12.*multiple of n_heads \(e.g. 108\)",
        ),
        (dict(n_layers=0), "n_layers must be a positive integer, got 0"),
        (dict(vocab_size=-5), "vocab_size must be a positive integer, got -5"),
        (dict(context_length=2.5), "context_length must be a positive integer, got 2.5"),
        (dict(n_heads=True), "n_heads must be a positive integer, got True"),
        (dict(drop_rate=1.0), r"drop_rate must be in \[0, 1\), got 1.0"),
        (dict(drop_rate=-0.1), r"drop_rate must be in \[0, 1\)"),
    ],
)
def test_bad_input(changes, message):
    with pytest.raises(ValueError, match=message):
        GPTConfig(**changes)
