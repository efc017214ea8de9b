"""Scoring generated answers against references with no judge model: deterministic and offline.

Four scores per (prediction, reference) pair, each between 0 and 1:

- ``correct`` (the headline): did the answer say the right thing? A rule per task kind pulls the
  answer out of both texts (a word, a number with its unit, a list in order, a label) and compares
  them; see ``finetune.correctness`` for the rules and what they mean for open-ended kinds.
- ``exact_match``: 1 if the two texts are equal after ``normalize`` (case, punctuation and
  spacing ignored), else 0. It rewards the reference's *wording*: a right answer in other words is 0.
- ``token_f1``: the harmonic mean of precision and recall of the *bag* of words (the SQuAD
  score): partial credit for overlapping words, order ignored, so "122 is larger than 431."
  scores 1.0 against "431 is larger than 122.".
- ``rouge_l``: ROUGE-L's F-measure, built on the longest common subsequence (LCS) of the two word
  sequences: P = LCS / len(prediction), R = LCS / len(reference), F = 2PR / (P + R). Word order
  counts, gaps are allowed, but one swapped pair of numbers still scores high. A test checks it
  against the ``rouge-score`` package.

The last three see text through one tokenizer, ``words(text)``: lower case, runs of ``a-z0-9`` (the
default tokenizer of ``rouge-score``, without stemming). ``score_responses`` scores a list,
``metrics_by_kind`` averages per task kind into table rows and ``format_table`` prints them
(``correct`` first, the word-overlap scores as secondary columns);
``llmscratch.plots.plot_metrics_by_kind`` draws before/after bars.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from .correctness import OPEN_ENDED, correct
from .normalize import normalize, words

__all__ = [
    "METRICS",
    "TABLE_METRICS",
    "exact_match",
    "format_table",
    "lcs_length",
    "metrics_by_kind",
    "normalize",
    "rouge_l",
    "score_response",
    "score_responses",
    "token_f1",
    "words",
]

METRICS = ("correct", "exact_match", "token_f1", "rouge_l")  # every score in a row
TABLE_METRICS = (
    "correct",
    "rouge_l",
    "token_f1",
)  # the table's default columns: the headline, then word overlap


def exact_match(prediction: str, reference: str) -> float:
    """1.0 if the normalized texts are equal, else 0.0.

    >>> exact_match("4, 10, 34.", "4, 10, 34"), exact_match("4, 34, 10", "4, 10, 34")
    (1.0, 0.0)
    """
    return float(normalize(prediction) == normalize(reference))


def token_f1(prediction: str, reference: str) -> float:
    """Bag-of-words F1: overlap counts each shared word as often as it occurs in both.

    Two empty texts score 1 (they agree); one empty text scores 0.

    >>> round(token_f1("the cat sat", "the cat sat down"), 4)  # P = 3/3, R = 3/4
    0.8571
    """
    pred, ref = words(prediction), words(reference)
    if not pred or not ref:
        return float(pred == ref)
    overlap = sum((Counter(pred) & Counter(ref)).values())
    if overlap == 0:
        return 0.0
    precision, recall = overlap / len(pred), overlap / len(ref)
    return 2 * precision * recall / (precision + recall)


def lcs_length(a: Sequence, b: Sequence) -> int:
    """Length of the longest common subsequence, by dynamic programming in O(len(a) * len(b)).

    ``row[j]`` holds the LCS of the prefix of ``a`` seen so far and ``b[:j]``; one row is kept.

    >>> lcs_length("ABCBDAB", "BDCABA")  # e.g. BCBA
    4
    """
    if len(b) > len(a):
        a, b = b, a  # the row has the length of the shorter sequence
    row = [0] * (len(b) + 1)
    for x in a:
        diagonal = 0  # row[j - 1] of the previous row
        for j, y in enumerate(b, start=1):
            above = row[j]
            row[j] = diagonal + 1 if x == y else max(row[j], row[j - 1])
            diagonal = above
    return row[-1]


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F-measure: 2PR / (P + R) with P = LCS / |prediction| and R = LCS / |reference|.

    >>> round(rouge_l("the cat was found under the bed", "the cat was under the bed"), 4)  # LCS = 6
    0.9231
    """
    pred, ref = words(prediction), words(reference)
    if not pred or not ref:
        return 0.0  # as rouge-score does, even for two empty texts
    lcs = lcs_length(pred, ref)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(pred), lcs / len(ref)
    return 2 * precision * recall / (precision + recall)


def score_response(prediction: str, reference: str, kind: str | None = None) -> dict[str, float]:
    """All four scores of one pair: ``{"correct": ..., "exact_match": ..., "token_f1": ..., "rouge_l": ...}``.

    ``kind`` picks the rule of ``correct`` (see ``finetune.correctness``; unknown or None: whole text).
    """
    return {
        "correct": correct(prediction, reference, kind),
        "exact_match": exact_match(prediction, reference),
        "token_f1": token_f1(prediction, reference),
        "rouge_l": rouge_l(prediction, reference),
    }


def score_responses(entries: Sequence[dict], responses: Sequence[str]) -> list[dict]:
    """One row per entry: its ``kind`` and the four scores of its response against ``output``."""
    if len(entries) != len(responses):
        raise ValueError(
            f"got {len(entries)} entries but {len(responses)} responses; they must pair up one to one"
        )
    rows = []
    for i, (entry, response) in enumerate(zip(entries, responses)):
        if not isinstance(response, str):
            raise TypeError(f"response {i} must be a str, got {type(response).__name__}")
        kind = entry.get("kind") or "unknown"
        rows.append({"kind": kind, **score_response(response, entry["output"], kind)})
    return rows


def metrics_by_kind(rows: Sequence[dict], *, total: str = "all") -> list[dict]:
    """Average the scores per kind: ``[{"kind", "n", "correct", "exact_match", "token_f1", "rouge_l"}, ...]``.

    Kinds are sorted by name; a last row named ``total`` averages over every entry (not over kinds).

    >>> metrics_by_kind([{"kind": "a", "correct": 1.0, "exact_match": 1.0, "token_f1": 1.0, "rouge_l": 1.0},
    ...                  {"kind": "a", "correct": 0.0, "exact_match": 0.0, "token_f1": 0.5, "rouge_l": 0.0}])[0]
    {'kind': 'a', 'n': 2, 'correct': 0.5, 'exact_match': 0.5, 'token_f1': 0.75, 'rouge_l': 0.5}
    """
    if not rows:
        raise ValueError("no rows to aggregate (score some responses first with score_responses)")
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(row["kind"], []).append(row)
    table = [
        {"kind": kind, "n": len(group), **{m: sum(r[m] for r in group) / len(group) for m in METRICS}}
        for kind, group in sorted(groups.items())
    ]
    table.append({"kind": total, "n": len(rows), **{m: sum(r[m] for r in rows) / len(rows) for m in METRICS}})
    return table


def format_table(
    before: Sequence[dict],
    after: Sequence[dict] | None = None,
    *,
    digits: int = 2,
    metrics: Sequence[str] = TABLE_METRICS,
) -> str:
    """A plain-text table of ``metrics_by_kind`` rows; with ``after``, "before -> after" per cell.

    When ``correct`` is shown, open-ended kinds (``correctness.OPEN_ENDED``) get a ``*`` and a
    footnote: their "correct" means "matches our reference", since they have more than one right answer.

    >>> rows = [{"kind": "all", "n": 2, "correct": 1.0, "token_f1": 0.75, "rouge_l": 0.5}]
    >>> print(format_table(rows))
    kind  n  correct  rouge_l  token_f1
    all   2  1.00     0.50     0.75
    """
    if after is not None and [r["kind"] for r in before] != [r["kind"] for r in after]:
        raise ValueError(
            "before and after must list the same kinds in the same order (score the same test entries)"
        )
    missing = [m for m in metrics if m not in before[0]] if before else []
    if missing:
        have = ", ".join(k for k in before[0] if k not in ("kind", "n"))
        raise ValueError(f"metrics {missing} are not in the rows (they have: {have})")
    mark = "correct" in metrics
    lines = [["kind", "n", *metrics]]
    starred = False
    for i, row in enumerate(before):
        cells = [
            f"{row[m]:.{digits}f}" + (f" -> {after[i][m]:.{digits}f}" if after is not None else "")
            for m in metrics
        ]
        star = mark and row["kind"] in OPEN_ENDED
        starred |= star
        lines.append([row["kind"] + ("*" if star else ""), str(row["n"]), *cells])
    widths = [max(len(line[c]) for line in lines) for c in range(len(lines[0]))]
    text = "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in lines)
    if starred:
        text += "\n* open-ended: correct = the same answer as our reference after normalization (a paraphrase counts as wrong)"
    return text
