"""``plots.preference``: the DPO notebook's figures draw the data they claim, and refuse what they cannot draw."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from llmscratch import plots  # noqa: E402
from llmscratch.training.history import History  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_dpo_loss_curves_are_the_formula_and_pass_through_log2():
    ax = plots.plot_dpo_loss((0.1, 0.5), ipo=True)
    lines = {line.get_label(): line for line in ax.get_lines()}
    for beta in (0.1, 0.5):
        h, loss = (np.asarray(v) for v in lines[f"DPO, beta = {beta:g}"].get_data())
        assert np.allclose(loss, -np.log(1 / (1 + np.exp(-beta * h))))
        assert np.interp(0.0, h, loss) == pytest.approx(math.log(2), abs=1e-3)
        h, ipo = (np.asarray(v) for v in lines[f"IPO, beta = {beta:g}"].get_data())
        assert h[np.argmin(ipo)] == pytest.approx(1 / (2 * beta), abs=0.2)  # IPO's target margin
    # a larger beta is steeper at 0: the loss falls faster as the margin grows
    h, small = (np.asarray(v) for v in lines["DPO, beta = 0.1"].get_data())
    large = np.asarray(lines["DPO, beta = 0.5"].get_data()[1])
    assert large[h > 1].max() < small[h > 1].max()


@pytest.mark.parametrize("betas", [(), (0.1, 0.0), (-1,)])
def test_dpo_loss_rejects_bad_betas(betas):
    with pytest.raises(ValueError, match="betas must be a non-empty list of positive numbers"):
        plots.plot_dpo_loss(betas)


def test_preference_training_draws_the_history():
    history = History(steps=[0, 5, 10], step_losses=[0.69, 0.6, 0.55, 0.5, 0.45, 0.4, 0.42, 0.38, 0.35, 0.3])
    history.metrics = {
        "loss": [0.693, 0.55, 0.41],
        "reward_margin": [0.0, 0.4, 0.9],
        "reward_accuracy": [0.0, 0.6, 0.75],
    }
    fig = plots.plot_preference_training(history, title="DPO")
    loss_ax, margin_ax, acc_ax = fig.axes
    batch, val = loss_ax.get_lines()[:2]
    assert list(batch.get_ydata()) == history.step_losses and list(batch.get_xdata()) == list(range(1, 11))
    assert list(val.get_xdata()) == [0, 5, 10] and list(val.get_ydata()) == history.metrics["loss"]
    assert list(margin_ax.get_lines()[0].get_ydata()) == history.metrics["reward_margin"]
    assert list(acc_ax.get_lines()[0].get_ydata()) == history.metrics["reward_accuracy"]
    assert fig._suptitle.get_text() == "DPO"


def test_preference_training_needs_the_objectives_metrics():
    history = History(steps=[0], metrics={"loss": [0.69]})
    with pytest.raises(ValueError, match=r"lacks \['reward_margin', 'reward_accuracy'\]"):
        plots.plot_preference_training(history)
