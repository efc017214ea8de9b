"""``plots.families``: the figures of chapter 5's bonus on later model families; each draws what it is
given, labels it, and rejects inconsistent input with one clear message."""

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


def test_qk_norm_runs_one_colour_per_run_in_both_panels():
    runs = {
        "Llama": {"step": [0, 10, 20], "loss": [5.0, 3.0, 2.5], "max_logit": [0.5, 20.0, 180.0]},
        "Qwen3": {"step": [0, 10, 20], "loss": [5.0, 2.9, 2.4], "max_logit": [3.0, 5.0, 9.0]},
    }
    fig = plots.plot_qk_norm_runs(runs)
    loss_ax, logit_ax = fig.axes
    assert [line.get_color() for line in loss_ax.get_lines()] == [
        line.get_color() for line in logit_ax.get_lines()
    ]
    assert logit_ax.get_yscale() == "log"
    assert [t.get_text() for t in logit_ax.get_legend().get_texts()] == [
        "Llama (last 180.0)",
        "Qwen3 (last 9.0)",
    ]
    assert list(logit_ax.get_lines()[0].get_ydata()) == [0.5, 20.0, 180.0]
    with pytest.raises(ValueError, match="lacks"):
        plots.plot_qk_norm_runs({"x": {"step": [0], "loss": [1.0]}})
    with pytest.raises(ValueError, match="one value each"):
        plots.plot_qk_norm_runs({"x": {"step": [0, 1], "loss": [1.0], "max_logit": [1.0]}})


def test_window_masks_show_each_mask_and_the_layer_strip():
    t = 6
    causal = np.tril(np.ones((t, t), dtype=bool))
    local = causal & ~np.tril(np.ones((t, t), dtype=bool), -3)  # window 3
    fig = plots.plot_window_masks({"global": causal, "local": local}, layer_kinds="LLG")
    assert len(fig.axes) == 3
    assert np.array_equal(fig.axes[1].images[0].get_array(), local)
    assert "3 keys at most" in fig.axes[1].get_title() and "6 keys at most" in fig.axes[0].get_title()
    assert [t.get_text() for t in fig.axes[2].texts] == ["local", "local", "global"]
    assert len(plots.plot_window_masks({"only": local}).axes) == 1
    with pytest.raises(ValueError, match="square"):
        plots.plot_window_masks({"bad": np.ones((2, 3))})
    with pytest.raises(ValueError, match="'L'"):
        plots.plot_window_masks({"global": causal}, layer_kinds="LX")


def test_cache_growth_in_kib_with_the_window_marked():
    ax = plots.plot_cache_growth(
        [1, 2, 3], {"all global": [1024, 2048, 3072], "5:1": [1024, 2048, 2048]}, window=2
    )
    assert list(ax.get_lines()[0].get_ydata()) == [1.0, 2.0, 3.0]
    assert ax.get_lines()[2].get_xdata()[0] == 2  # the window line
    assert ax.get_ylabel() == "KV cache (KiB)"
    with pytest.raises(ValueError, match="one value per token count"):
        plots.plot_cache_growth([1, 2], {"x": [1.0]})


def test_expert_load_rows_become_percentages():
    counts = np.array([[30, 10, 0, 0], [10, 10, 10, 10]])
    fig = plots.plot_expert_load({"trained": counts})
    ax = fig.axes[0]
    assert np.allclose(ax.images[0].get_array(), [[75, 25, 0, 0], [25, 25, 25, 25]])
    assert [t.get_text() for t in ax.texts][:4] == ["75", "25", "0", "0"]
    assert "balanced = 25.0" in ax.get_title()
    assert [t.get_text() for t in ax.get_yticklabels()] == ["MoE layer 0", "MoE layer 1"]
    with pytest.raises(ValueError, match="one shape"):
        plots.plot_expert_load({"a": counts, "b": counts[:, :2]})
    with pytest.raises(ValueError, match="routed some tokens"):
        plots.plot_expert_load({"a": np.zeros((1, 4))})


def test_cache_vs_context_is_log_log_in_gib():
    curves = {"a": [2**30, 2**31], "b": [2**29, 2**29], "c": [2**30, 2**31]}
    ax = plots.plot_cache_vs_context([1024, 2048], curves)
    assert ax.get_xscale() == ax.get_yscale() == "log"
    assert list(ax.get_lines()[0].get_ydata()) == [1.0, 2.0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a = c", "b"]  # equal curves share a line
    with pytest.raises(ValueError, match="positive"):
        plots.plot_cache_vs_context([0, 1], {"a": [1, 2]})
    with pytest.raises(ValueError, match="one value per context length"):
        plots.plot_cache_vs_context([1, 2], {"a": [1]})
