"""Chapter 2's and 3's figures of tokens and attention: tokenization rows, the shifted batch,
vocabulary growth, token lengths, attention heads and score scaling. Each draws what it claims
and rejects inconsistent input with one clear message."""

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


def _texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_tokenization_counts_tokens_and_unknowns():
    fig = plots.plot_tokenization(
        "Hi there", [("words", ["<|unk|>", "there"], [7, 3]), ("bpe", ["Hi", " there"], [17, 612])]
    )
    fig.canvas.draw()
    texts = _texts(fig)
    assert "words\n2 tokens, 1 unknown" in texts and "bpe\n2 tokens" in texts
    assert "\u2423there" in texts and "612" in texts  # the space is made visible; ids written under tokens
    red = [p for p in fig.axes[0].patches if p.get_facecolor()[:3] == matplotlib.colors.to_rgb("#f4a3a3")]
    assert len(red) == 1
    with pytest.raises(ValueError, match="one id per token"):
        plots.plot_tokenization("x", [("words", ["x"], [])])


def test_shifted_batch_draws_every_token_and_the_shift():
    fig = plots.plot_shifted_batch([["a", "b", "c"]], [["b", "c", "d"]])
    texts = _texts(fig)
    assert texts.count("b") == 2 and "d" in texts and "target 0" in texts
    arrows = [c for c in fig.axes[0].texts if c.get_text() == "" and hasattr(c, "arrow_patch")]
    assert len(arrows) == 2  # one dotted link per shifted pair within the row
    with pytest.raises(ValueError, match="same shape"):
        plots.plot_shifted_batch([["a", "b"]], [["b"]])


def test_vocab_growth_panels():
    fig = plots.plot_vocab_growth([100, 200], [50, 80], [0.3, 0.2], bpe_vocab_size=50257)
    left, right = fig.axes
    assert "50,257" in left.get_title()
    assert np.allclose(right.get_lines()[0].get_ydata(), [30.0, 20.0])  # percent
    with pytest.raises(ValueError, match="one vocabulary size and one unknown rate per point"):
        plots.plot_vocab_growth([100], [50, 80], [0.3], bpe_vocab_size=10)


def test_token_lengths_histogram_in_percent_with_overflow_bar():
    ax = plots.plot_token_lengths({"a": [1, 1, 3, 20]}, max_length=4)
    heights = [p.get_height() for p in ax.patches]
    assert heights == [0.0, 50.0, 0.0, 25.0, 25.0]  # the 20 falls into the "4+" bar
    assert ax.get_xticklabels()[-1].get_text() == "4+"
    assert "mean 6.25" in ax.get_legend().get_texts()[0].get_text()
    with pytest.raises(ValueError, match="at least one token length"):
        plots.plot_token_lengths({"a": []})


def test_attention_heads_grid():
    w = np.tril(np.ones((3, 4, 4))) / np.arange(1, 5)[:, None]
    fig = plots.plot_attention_heads(w, ["a", "b", "c", "d"], n_cols=2)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[:3] == ["head 0", "head 1", "head 2"]
    assert fig.axes[0].images[0].get_clim() == (0.0, 0.5)  # row 0 (always 1) is beyond the scale
    with pytest.raises(ValueError, match=r"\(H, T, T\)"):
        plots.plot_attention_heads(w, ["a", "b"])


def test_score_scaling():
    fig = plots.plot_score_scaling(
        [1, 4, 16], [1.0, 2.0, 4.0], [1.0, 1.0, 1.0], [0.9, 0.1, 0.0], [0.4, 0.3, 0.3]
    )
    left, right = fig.axes
    assert left.get_xscale() == "log" and len(right.patches) == 6
    with pytest.raises(ValueError, match="one std per head size"):
        plots.plot_score_scaling([1, 4], [1.0], [1.0], [1.0], [1.0])
    with pytest.raises(ValueError, match="same length"):
        plots.plot_score_scaling([1], [1.0], [1.0], [0.5, 0.5], [1.0])
