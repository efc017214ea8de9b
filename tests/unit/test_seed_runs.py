"""llmscratch.finetune.seed_runs: the spread of a number over seeds and the summary table of several runs."""

import pytest

from llmscratch.finetune import spam_finetune
from llmscratch.finetune.seed_runs import SeedRuns, Spread


def test_spread_is_mean_sample_std_and_range():
    s = Spread.of([0.6, 0.8, 1.0])
    assert (s.mean, s.min, s.max, s.n) == pytest.approx((0.8, 0.6, 1.0, 3))
    assert s.std == pytest.approx(0.2)  # sample std: sqrt(((-0.2)^2 + 0 + 0.2^2) / 2)
    assert Spread.of([0.7]).std == 0.0
    assert str(s) == "80.0% ± 20.0 [60.0, 100.0], 3 seeds"
    with pytest.raises(ValueError, match="at least one seed"):
        Spread.of([])


def _result(seed: int, test: float, heldout: float) -> dict:
    return {
        "seed": seed,
        "train_messages": 6,
        "test_messages": 4,
        "heldout_messages": 5,
        "test_accuracy": test,
        "heldout_accuracy": heldout,
        "bow_test_accuracy": 0.5,
        "bow_heldout_accuracy": 0.2,
        "majority_test_accuracy": 0.5,
        "majority_heldout_accuracy": 0.6,
    }


def test_table_of_one_seed_has_zero_spread_and_the_gap_to_the_bag_of_words():
    table = SeedRuns("lora", [_result(7, 0.75, 0.4)]).table()
    assert "lora: seeds 7; 6 training messages; test split 4 messages, held-out kinds 5" in table
    assert "fine-tuned LLM   75.0% ± 0.0 [75.0, 75.0], 1 seed " in table
    assert (
        table.splitlines()[-1]
        == f"{'LLM - bag':<16} {'25.0% ± 0.0 [25.0, 25.0], 1 seed':<36} 20.0% ± 0.0 [20.0, 20.0], 1 seed"
    )


def test_spam_finetune_still_exports_the_seed_summaries():
    """Notebooks import ``SeedRuns`` from ``spam_finetune``, where it used to live."""
    assert spam_finetune.SeedRuns is SeedRuns and spam_finetune.Spread is Spread
