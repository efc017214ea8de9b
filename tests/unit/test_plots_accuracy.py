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
