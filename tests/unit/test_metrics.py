"""metrics: exact match, token F1 and ROUGE-L from their definitions; per-kind tables; the plot.

ROUGE-L is also checked against the ``rouge-score`` package in tests/equivalence.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmscratch.finetune.metrics import (
    METRICS,
    TABLE_METRICS,
    exact_match,
    format_table,
    lcs_length,
    metrics_by_kind,
    normalize,
    rouge_l,
    score_responses,
    token_f1,
    words,
)


def _lcs_brute_force(a, b):
    """The longest common subsequence by trying every subsequence of the shorter sequence."""
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    for size in range(len(short), 0, -1):
        for idx in itertools.combinations(range(len(short)), size):
            sub, it = [short[i] for i in idx], iter(long_)
            if all(any(x == y for y in it) for x in sub):
                return size
    return 0


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from("abcd"), max_size=7), st.lists(st.sampled_from("abcd"), max_size=7))
def test_lcs_matches_brute_force(a, b):
    assert lcs_length(a, b) == lcs_length(b, a) == _lcs_brute_force(a, b)


def test_words_and_normalize():
    assert words("It's 3.5 km, isn't it?") == ["it", "s", "3", "5", "km", "isn", "t", "it"]
    assert normalize("  The  Answer: PARIS. ") == "the answer paris"


def test_exact_match():
    assert exact_match("Paris.", "paris") == 1.0
    assert exact_match("Paris, France", "Paris") == 0.0
    assert exact_match("", "") == 1.0


def test_token_f1_by_hand():
    # prediction 4 words, reference 3, overlap {the, cat} = 2 -> P = 1/2, R = 2/3, F1 = 4/7
    assert token_f1("the cat is here", "the black cat") == pytest.approx(4 / 7)
    assert token_f1("a a a", "a") == pytest.approx(2 * (1 / 3) * 1 / (1 / 3 + 1))  # counts are clipped
    assert token_f1("", "") == 1.0 and token_f1("x", "") == 0.0 and token_f1("x", "y") == 0.0


def test_rouge_l_by_hand_and_order_matters():
    # LCS("a b c d", "a c b d") = 3 (a c d or a b d): P = R = 3/4
    assert rouge_l("a b c d", "a c b d") == pytest.approx(0.75)
    assert token_f1("a b c d", "a c b d") == 1.0  # F1 ignores order, ROUGE-L does not
    assert rouge_l("", "") == 0.0 and rouge_l("same words", "Same words!") == 1.0


def test_score_responses_and_table():
    entries = [
        {"output": "Paris", "kind": "capital"},
        {"output": "Rome", "kind": "capital"},
        {"output": "1, 2, 3.", "kind": "sort_list"},
    ]
    rows = score_responses(entries, ["The capital is Paris.", "Madrid", "1, 3, 2"])
    assert [sorted(r) for r in rows] == [sorted(["kind", *METRICS])] * 3
    table = metrics_by_kind(rows)
    assert [r["kind"] for r in table] == ["capital", "sort_list", "all"] and [r["n"] for r in table] == [
        2,
        1,
        3,
    ]
    assert table[0]["correct"] == 0.5 and table[0]["exact_match"] == 0.0  # right in other words
    assert table[1]["token_f1"] == 1.0 and table[1]["correct"] == 0.0  # the list is out of order
    assert table[1]["rouge_l"] == pytest.approx(2 / 3)
    assert table[2]["correct"] == pytest.approx(1 / 3)  # over entries, not over kinds
    text = format_table(table, table)
    assert text.splitlines()[0].split() == ["kind", "n", *TABLE_METRICS] and "0.50 -> 0.50" in text
    assert (
        TABLE_METRICS[0] == "correct" and "*" not in text
    )  # the headline column first; no open-ended kind here
    assert format_table(table, metrics=["exact_match"]).splitlines()[1].split() == ["capital", "2", "0.00"]


def test_open_ended_kinds_are_marked_in_the_table():
    rows = metrics_by_kind(
        score_responses([{"output": "A cat is a small animal.", "kind": "definition"}], ["A cat is a pet."])
    )
    text = format_table(rows)
    assert text.splitlines()[1].startswith("definition*") and text.splitlines()[-1].startswith("* open-ended")
    assert "*" not in format_table(rows, metrics=["rouge_l"])  # the footnote is about 'correct' only


def test_bad_input():
    with pytest.raises(ValueError, match="got 2 entries but 1 responses"):
        score_responses([{"output": "a"}, {"output": "b"}], ["a"])
    with pytest.raises(TypeError, match="response 0 must be a str, got list"):
        score_responses([{"output": "a"}], [[1, 2]])
    with pytest.raises(ValueError, match="no rows to aggregate"):
        metrics_by_kind([])
    rows = metrics_by_kind(score_responses([{"output": "a", "kind": "x"}], ["a"]))
    with pytest.raises(ValueError, match="same kinds in the same order"):
        format_table(rows, metrics_by_kind(score_responses([{"output": "a", "kind": "y"}], ["a"])))
    with pytest.raises(ValueError, match=r"metrics \['bleu'\] are not in the rows"):
        format_table(rows, metrics=["bleu"])


def test_plot_metrics_by_kind():
    import matplotlib

    matplotlib.use("Agg")
    from llmscratch.plots import plot_metrics_by_kind

    entries = [{"output": "Paris", "kind": "capital"}, {"output": "1, 2, 3.", "kind": "sort_list"}]
    before = metrics_by_kind(score_responses(entries, ["no idea", "3"]))
    after = metrics_by_kind(score_responses(entries, ["Paris", "1, 2, 3"]))
    ax = plot_metrics_by_kind(before, after, metric="token_f1")
    assert len(ax.patches) == 2 * len(before)
    assert sorted(round(p.get_width(), 4) for p in ax.patches)[-3:] == [1.0, 1.0, 1.0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["capital (n=1)", "sort_list (n=1)", "all (n=2)"]
    with pytest.raises(
        ValueError, match="metric 'bleu' is not in the rows; choose one of correct, exact_match"
    ):
        plot_metrics_by_kind(before, after, metric="bleu")
    ax = plot_metrics_by_kind(before, after)  # the headline score by default
    assert ax.get_xlabel().startswith("share of correct answers")
    assert sorted(round(p.get_width(), 4) for p in ax.patches) == [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="same kinds in the same order"):
        plot_metrics_by_kind(before, after[:1])
