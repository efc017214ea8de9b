"""Smoke tests for ``llmscratch.plots``: every figure draws without error (Agg backend) and
shows what it claims (texts present, shapes respected); bad input gets a clear message."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from llmscratch import plots  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _texts(fig) -> str:
    return "\n".join(t.get_text() for ax in fig.axes for t in ax.texts + [ax.title])


def _draw(fig) -> None:
    fig.canvas.draw()  # layout and rendering errors only show up when the figure is drawn


def test_llm_pipeline():
    ax = plots.plot_llm_pipeline()
    _draw(ax.figure)
    assert "ch 7" in _texts(ax.figure)


def test_token_heatmap_and_rows_and_windows():
    ax = plots.plot_token_heatmap(np.eye(3), ["a", "b", "c"], title="t")
    _draw(ax.figure)
    ax = plots.plot_token_rows([("words", ["Hello", " world"]), ("bytes", list("Hello world"))])
    _draw(ax.figure)
    assert "words (2)" in _texts(ax.figure)
    ax = plots.plot_sliding_windows(list("abcdefghij"), max_length=4, stride=2)
    _draw(ax.figure)


def test_gpt_model_shows_the_config_numbers():
    ax = plots.plot_gpt_model(vocab_size=1000, context_length=64, emb_dim=32, n_layers=3)
    _draw(ax.figure)
    text = _texts(ax.figure)
    assert "x 3" in text and "(B, T, 32)" in text and "(B, T, 1,000)" in text


def test_transformer_block_has_two_sublayers_and_shortcuts():
    ax = plots.plot_transformer_block(emb_dim=64)
    _draw(ax.figure)
    text = _texts(ax.figure)
    assert text.count("shortcut") == 2 and "LayerNorm 1" in text and "LayerNorm 2" in text and "256" in text


def test_qkv_attention_panels():
    rng = np.random.default_rng(0)
    q, k, v = rng.normal(size=(3, 4, 2))
    w = np.tril(np.ones((4, 4))) / np.arange(1, 5)[:, None]
    fig = plots.plot_qkv_attention(q, k, v, w, ["a", "b", "c", "d"], title="toy")
    _draw(fig)
    assert len([ax for ax in fig.axes if ax.images]) == 5
    assert "0.25" in _texts(fig)  # the weights are written in their cells


def test_embedding_lookup_rows():
    fig = plots.plot_embedding_lookup([5, 9, 5], ["a", " b", "a"], vocab_size=10, context_length=8, emb_dim=4)
    _draw(fig)
    text = _texts(fig)
    assert (
        "row 9" in text and "row 2" in text and "other 8 rows" in text and "rows 3 .. 7 are not read" in text
    )
    fig = plots.plot_embedding_lookup([1, 2], ["a", "b"], vocab_size=10, context_length=2, emb_dim=4)
    assert "all 2 rows are read" in _texts(fig)
    with pytest.raises(ValueError, match="one token string per id"):
        plots.plot_embedding_lookup([1, 2], ["a"], vocab_size=10, context_length=8, emb_dim=4)


def test_kv_cache_steps():
    fig = plots.plot_kv_cache_steps(["a", "b", "c", "d", "e"], n_prompt=3)
    _draw(fig)
    text = _texts(fig)
    assert "step 2" in text and "reads 5 keys" in text and "step 3" not in text
    with pytest.raises(ValueError, match="n_prompt must be between 1 and len"):
        plots.plot_kv_cache_steps(["a"], n_prompt=2)


def test_rnn_vs_attention():
    fig = plots.plot_rnn_vs_attention(["a", "b", "c"], [0.2, 0.3, 0.5])
    _draw(fig)
    assert "2 state updates" in _texts(fig)
    with pytest.raises(ValueError, match="one weight per word"):
        plots.plot_rnn_vs_attention(["a", "b"], [1.0])


def test_head_split():
    fig = plots.plot_head_split(n_tokens=2, n_heads=2, head_dim=3)
    _draw(fig)
    assert "head 1" in _texts(fig) and "head 2" not in _texts(fig)


def test_attention_weights_lower_triangle_only():
    w = np.tril(np.ones((3, 3))) / np.arange(1, 4)[:, None]
    fig = plots.plot_attention_weights(w, ["x", " y", " "], title="causal")
    _draw(fig)
    numbers = [t.get_text() for t in fig.axes[0].texts]
    assert len(numbers) == 6  # 3 + 2 + 1 entries on and below the diagonal


def test_loss_plot_says_what_the_loss_averages_over():
    from llmscratch.training.history import History

    h = History(
        steps=[0, 10], tokens_seen=[0, 640], epochs=[0.0, 1.0], train_losses=[0.8, 0.2], val_losses=[0.9, 0.3]
    )
    assert (
        plots.plot_losses(h).get_ylabel() == "loss (nats per token)"
    )  # chapters 5 and 7: language modelling
    ax = plots.plot_losses(h, ylabel="loss (nats per message)")  # chapter 6: one prediction per message
    assert ax.get_ylabel() == "loss (nats per message)"
    assert [line.get_label() for line in ax.get_lines()] == ["training loss", "validation loss"]
    _draw(ax.figure)
