"""``plots.plot_matrices``: panels of their own shapes, operators between them, masked entries shown."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from llmscratch.plots import plot_matrices  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_panels_operators_labels_and_masked_cells():
    scores = np.array([[0.5, -np.inf], [0.25, 1.0]])
    fig = plot_matrices(
        [
            (np.eye(2), "one-hot", ["a", "b"], ["0", "1"]),
            (np.ones((2, 3)), "table"),
            (scores, "masked", ["a", "b"], None),
        ],
        ops=["@", "->"],
    )
    fig.canvas.draw()
    assert [ax.get_title() for ax in fig.axes] == ["one-hot\n2 x 2", "table\n2 x 3", "masked\n2 x 2"]
    assert [t.get_text() for t in fig.texts] == ["@", "->"]
    cells = [t.get_text() for t in fig.axes[2].texts]
    assert cells == ["0.50", "-inf", "0.25", "1.00"]
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["a", "b"]
    assert fig.axes[1].get_yticklabels() == []  # no labels given: none drawn
    left, right = fig.axes[0].get_position(), fig.axes[1].get_position()
    assert left.x1 < fig.texts[0].get_position()[0] < right.x0  # the operator sits between its two panels


def test_shared_scale_gives_every_panel_the_same_colour_range():
    fig = plot_matrices([(np.zeros((2, 2)), "a"), (np.full((2, 2), 4.0), "b")], shared_scale=True, fmt=None)
    assert {ax.images[0].get_clim() for ax in fig.axes} == {(0.0, 4.0)}
    assert all(not ax.texts for ax in fig.axes)  # fmt=None: no numbers written


def test_bad_input_gets_one_clear_error():
    with pytest.raises(ValueError, match="at least one"):
        plot_matrices([])
    with pytest.raises(ValueError, match="one operator between each pair"):
        plot_matrices([(np.eye(2), "a"), (np.eye(2), "b")], ops=["+", "="])
    with pytest.raises(ValueError, match="labels do not match its shape"):
        plot_matrices([(np.eye(2), "a", ["x"], None)])
    with pytest.raises(ValueError, match="1-D or 2-D"):
        plot_matrices([(np.zeros((2, 2, 2)), "cube")])
