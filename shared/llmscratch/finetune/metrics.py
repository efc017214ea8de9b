"""Scoring generated answers against references with no judge model: deterministic and offline.

Three scores per (prediction, reference) pair, each between 0 and 1, implemented here from their
definitions:

- ``exact_match``: 1 if the two texts are equal after ``normalize`` (case, punctuation and
  spacing ignored), else 0. Strict: right for answers with one correct form.
- ``token_f1``: the harmonic mean of precision and recall of the *bag* of words (the SQuAD
  score): partial credit for overlapping words, order ignored.
- ``rouge_l``: ROUGE-L's F-measure, built on the longest common subsequence (LCS) of the two word
  sequences: P = LCS / len(prediction), R = LCS / len(reference), F = 2PR / (P + R). Word order
  counts, gaps are allowed. A test checks it against the ``rouge-score`` package.

All three see text through one tokenizer, ``words(text)``: lower case, runs of ``a-z0-9`` (the
default tokenizer of ``rouge-score``, without stemming). ``score_responses`` scores a list,
``metrics_by_kind`` averages per task kind into table rows and ``format_table`` prints them;
``llmscratch.plots.plot_metrics_by_kind`` draws before/after bars.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

__all__ = ["METRICS", "exact_match", "format_table", "lcs_length", "metrics_by_kind", "normalize", "rouge_l",
           "score_response", "score_responses", "token_f1", "words"]

METRICS = ("exact_match", "token_f1", "rouge_l")
_WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> list[str]:
    """Lower-cased runs of letters and digits (punctuation and other characters separate words).

    >>> words("The plural of \\"Mouse\\" is \\"mice\\".")
    ['the', 'plural', 'of', 'mouse', 'is', 'mice']
    """
    return _WORD.findall(text.lower())


def normalize(text: str) -> str:
    """``words`` joined by single spaces: what ``exact_match`` compares.

    >>> normalize("  Paris!  ") == normalize("paris")
    True
    """
    return " ".join(words(text))


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


def score_response(prediction: str, reference: str) -> dict[str, float]:
    """All three scores of one pair: ``{"exact_match": ..., "token_f1": ..., "rouge_l": ...}``."""
    return {"exact_match": exact_match(prediction, reference), "token_f1": token_f1(prediction, reference),
            "rouge_l": rouge_l(prediction, reference)}


def score_responses(entries: Sequence[dict], responses: Sequence[str]) -> list[dict]:
    """One row per entry: its ``kind`` and the three scores of its response against ``output``."""
    if len(entries) != len(responses):
        raise ValueError(f"got {len(entries)} entries but {len(responses)} responses; they must pair up one to one")
    rows = []
    for i, (entry, response) in enumerate(zip(entries, responses)):
        if not isinstance(response, str):
            raise TypeError(f"response {i} must be a str, got {type(response).__name__}")
        rows.append({"kind": entry.get("kind") or "unknown", **score_response(response, entry["output"])})
    return rows


def metrics_by_kind(rows: Sequence[dict], *, total: str = "all") -> list[dict]:
    """Average the scores per kind: ``[{"kind", "n", "exact_match", "token_f1", "rouge_l"}, ...]``.

    Kinds are sorted by name; a last row named ``total`` averages over every entry (not over kinds).

    >>> metrics_by_kind([{"kind": "a", "exact_match": 1.0, "token_f1": 1.0, "rouge_l": 1.0},
    ...                  {"kind": "a", "exact_match": 0.0, "token_f1": 0.5, "rouge_l": 0.0}])[0]
    {'kind': 'a', 'n': 2, 'exact_match': 0.5, 'token_f1': 0.75, 'rouge_l': 0.5}
    """
    if not rows:
        raise ValueError("no rows to aggregate (score some responses first with score_responses)")
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(row["kind"], []).append(row)
    table = [{"kind": kind, "n": len(group), **{m: sum(r[m] for r in group) / len(group) for m in METRICS}}
             for kind, group in sorted(groups.items())]
    table.append({"kind": total, "n": len(rows), **{m: sum(r[m] for r in rows) / len(rows) for m in METRICS}})
    return table


def format_table(before: Sequence[dict], after: Sequence[dict] | None = None, *, digits: int = 2,
                 metrics: Sequence[str] = METRICS) -> str:
    """A plain-text table of ``metrics_by_kind`` rows; with ``after``, "before -> after" per cell.

    >>> rows = [{"kind": "all", "n": 2, "exact_match": 0.5, "token_f1": 0.75, "rouge_l": 0.5}]
    >>> print(format_table(rows))
    kind  n  exact_match  token_f1  rouge_l
    all   2  0.50         0.75      0.50
    """
    if after is not None and [r["kind"] for r in before] != [r["kind"] for r in after]:
        raise ValueError("before and after must list the same kinds in the same order (score the same test entries)")
    lines = [["kind", "n", *metrics]]
    for i, row in enumerate(before):
        cells = [f"{row[m]:.{digits}f}" + (f" -> {after[i][m]:.{digits}f}" if after is not None else "") for m in metrics]
        lines.append([row["kind"], str(row["n"]), *cells])
    widths = [max(len(line[c]) for line in lines) for c in range(len(lines[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in lines)
