"""plotting.plot_accuracy_comparison: one bar per (model, split) present, labelled in percent."""

import matplotlib

matplotlib.use("Agg")

from llmscratch.plots import plot_accuracy_comparison  # noqa: E402


def test_one_labelled_bar_per_model_and_split():
    ax = plot_accuracy_comparison(
        {"majority": {"test": 0.5}, "bow": {"train": 1.0, "val": 0.92, "test": 0.905}}
    )
    heights = sorted(round(p.get_height(), 6) for p in ax.patches)
    assert heights == [50.0, 90.5, 92.0, 100.0]
    assert sorted(t.get_text() for t in ax.texts) == ["100.0", "50.0", "90.5", "92.0"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["majority", "bow"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train", "val", "test"]


def test_other_scores_keep_their_order_and_the_axis_its_label():
    ax = plot_accuracy_comparison(
        {"a": {"correct": 0.5, "exact match": 0.25}, "b": {"correct": 0.75, "ROUGE-L": 0.5}},
        ylabel="score (%)",
    )
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["correct", "exact match", "ROUGE-L"]
    assert sorted(round(p.get_height(), 6) for p in ax.patches) == [25.0, 50.0, 50.0, 75.0]
    assert ax.get_ylabel() == "score (%)"


def test_seed_spread_one_dot_per_seed_and_the_mean_written():
    from llmscratch.plots import plot_seed_spread

    ax = plot_seed_spread(
        {"last block": {"test": [0.8, 0.9], "held-out": [0.7, 0.8, 0.9]}, "bow": {"test": [0.95]}}
    )
    from matplotlib.collections import PathCollection

    dots = sorted(len(c.get_offsets()) for c in ax.collections if isinstance(c, PathCollection))
    assert dots == [1, 2, 3]
    means = sorted(t.get_text() for t in ax.texts)
    assert means == ["80.0", "85.0", "95.0"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["test", "held-out"]


def test_seed_spread_refuses_an_empty_test_set():
    import pytest

    from llmscratch.plots import plot_seed_spread

    with pytest.raises(ValueError, match="at least one value"):
        plot_seed_spread({"a": {"test": []}})
