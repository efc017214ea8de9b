"""The two steps of byte-pair encoding, on plain lists of ids: count adjacent pairs, merge one pair.

Both trainers (``train.py``) are built from these two functions; the tokenizer (``tokenizer.py``)
encodes with its own rank-driven loop instead (it joins the lowest-ranked pair, not the most
frequent one). Ids 0-255 are the single bytes (``N_BYTES``); merge ``k`` creates id ``256 + k``.
"""

from __future__ import annotations

from collections.abc import Sequence

N_BYTES = 256  # the starting vocabulary: one token per byte value


def pair_counts(
    ids: Sequence[int], counts: dict[tuple[int, int], int] | None = None, weight: int = 1
) -> dict[tuple[int, int], int]:
    """Count adjacent pairs in ``ids`` (each counted ``weight`` times), adding to ``counts`` if given.

    >>> pair_counts([1, 2, 3, 1, 2])
    {(1, 2): 2, (2, 3): 1, (3, 1): 1}
    """
    counts = {} if counts is None else counts
    for pair in zip(ids, ids[1:]):
        counts[pair] = counts.get(pair, 0) + weight
    return counts


def merge_pair(ids: Sequence[int], pair: tuple[int, int], new_id: int) -> list[int]:
    """Replace every occurrence of ``pair`` in ``ids`` by ``new_id``, scanning left to right.

    Occurrences never overlap: in ``[5, 5, 5]`` the pair ``(5, 5)`` is merged once, at the left.

    >>> merge_pair([1, 2, 3, 1, 2], (1, 2), 256)
    [256, 3, 256]
    >>> merge_pair([5, 5, 5], (5, 5), 256)
    [256, 5]
    """
    left, right = pair
    out, i, n = [], 0, len(ids)
    while i < n:
        if i + 1 < n and ids[i] == left and ids[i + 1] == right:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out
