"""``plots.layers``: figures of numbers measured on chapter 4's layers; each draws, says what it
shows, and rejects inconsistent input with one clear message."""

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


def test_layernorm_effect_reports_each_rows_statistics():
    rng = np.random.default_rng(0)
    before = rng.normal(size=(2, 50)) * [[1.0], [3.0]] + [[0.0], [5.0]]
    after = (before - before.mean(1, keepdims=True)) / before.std(1, keepdims=True)
    fig = plots.plot_layernorm_effect(before, after, labels=["x", "y"])
    fig.canvas.draw()
    legend = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert legend == ["x: mean 0.00, std 1.00", "y: mean 0.00, std 1.00"]
    assert fig.axes[1].get_title() == "after LayerNorm (50 features per token)"
    with pytest.raises(ValueError, match="same shape"):
        plots.plot_layernorm_effect(before, after[:1])
    with pytest.raises(ValueError, match="one label per row"):
        plots.plot_layernorm_effect(before, after, labels=["x"])


def test_activation_gradients_one_curve_each():
    xs = np.linspace(-2, 2, 9)
    ax = plots.plot_activation_gradients(xs, {"ReLU": (xs > 0).astype(float), "id": np.ones(9)})
    assert [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")] == [
        "d ReLU(x) / dx",
        "d id(x) / dx",
    ]
    assert ax.get_ylabel() == "derivative"
    with pytest.raises(ValueError, match="same shape as xs"):
        plots.plot_activation_gradients(xs, {"bad": np.ones(3)})


def test_per_layer_grouped_bars():
    ax = plots.plot_per_layer(
        {"a": [1.0, 2.0, 4.0], "b": [1.0, 1.0, 1.0]}, ylabel="size", layer_names=["emb", "1", "2"]
    )
    assert len(ax.patches) == 6 and ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["emb", "1", "2"]
    with pytest.raises(ValueError, match="one value per layer"):
        plots.plot_per_layer({"a": [1.0], "b": [1.0, 2.0]}, ylabel="size")
    with pytest.raises(ValueError, match="one name per layer"):
        plots.plot_per_layer({"a": [1.0, 2.0]}, ylabel="size", layer_names=["x"])


def test_parameter_breakdown_shares_add_up():
    ax = plots.plot_parameter_breakdown({"embeddings": 300, "blocks": 600, "norms": 100})
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["embeddings: 300 (30.0%)", "blocks: 600 (60.0%)", "norms: 100 (10.0%)"]
    assert ax.get_title() == "1,000 parameters" and ax.get_xlim() == (0.0, 1000.0)
    with pytest.raises(ValueError, match="no negative counts"):
        plots.plot_parameter_breakdown({"x": -1})


def test_logit_distributions_sorted_probabilities():
    logits = {"flat": np.zeros((2, 10)), "peaked": np.array([[10.0] + [0.0] * 9])}
    fig = plots.plot_logit_distributions(logits, vocab_size=10)
    right = fig.axes[1]
    flat, peaked = (line.get_ydata() for line in right.get_lines()[:2])
    assert np.allclose(flat, 0.1) and peaked[0] > 0.99 and np.all(np.diff(peaked) <= 0)
    assert right.get_lines()[0].get_label() == "flat (top token 0.1)"
    with pytest.raises(ValueError, match="vocab_size=10"):
        plots.plot_logit_distributions({"x": np.zeros(5)}, vocab_size=10)
