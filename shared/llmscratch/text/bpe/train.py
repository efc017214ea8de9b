"""Training a byte-level BPE vocabulary from text: the teaching trainer and the fast one.

- ``train_naive``: after every merge it recounts every pair in the whole corpus, exactly like the
  notebook's hand-built version. Clear, and slow: each merge costs a full pass over the text.
- ``train_bpe``: same merges, same order (the test suite proves it), but it works on the *unique*
  pre-tokens weighted by their counts, keeps the pair counts up to date by visiting only the words
  a merge actually changes, and finds the best pair with a heap. What changed, exactly:
  (1) duplicate words are counted once with a weight; (2) pair counts are updated by the difference
  between a changed word's old and new pairs instead of being recounted; (3) an index from each pair
  to the words containing it means unchanged words are never looked at; (4) a heap with lazy deletion
  replaces the ``max`` over all pairs.

Both return a ``BPETokenizer`` (``tokenizer.py``) and fill an optional ``TrainingLog``. The rules
they share (pre-tokenization, tie-break, skipped pairs, ids) are in the package docstring.
"""

from __future__ import annotations

import heapq
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from tqdm import tqdm  # plain tqdm: tqdm.auto warns in notebooks without ipywidgets

from .merge import N_BYTES, merge_pair, pair_counts
from .pattern import compile_pattern, resolve_pattern, special_regex, valid_unicode
from .tokenizer import BPETokenizer


@dataclass
class TrainingLog:
    """What happened during training, one entry per merge (both trainers fill it the same way).

    ``counts[k]``: how often merge k's pair occurred when it was chosen; ``n_tokens[k]``: the length
    of the training text in tokens *before* merge k (``n_tokens[-1]`` is the final length);
    ``seconds``: wall time of training, pre-tokenization included.
    """

    counts: list[int] = field(default_factory=list)
    n_tokens: list[int] = field(default_factory=list)
    skipped: list[tuple[int, int]] = field(default_factory=list)  # pairs whose bytes already were a token
    seconds: float = 0.0
    stopped_early: bool = False  # train_naive hit its time limit


def _check_training_args(
    text: str, vocab_size: int, pattern: str, special_tokens: Sequence[str]
) -> tuple[str, list[str], int]:
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if isinstance(special_tokens, str):
        raise TypeError(f"special_tokens must be a list of strings, got the string {special_tokens!r}")
    specials = list(special_tokens)
    if len(set(specials)) != len(specials) or not all(isinstance(s, str) and s for s in specials):
        raise ValueError(f"special tokens must be distinct non-empty strings, got {specials!r}")
    for s in specials:
        if len(s.encode("utf-8")) == 1:
            raise ValueError(
                f"special token {s!r} collides with the single-byte token {ord(s)}; choose a longer string such as '<|{s}|>'"
            )
    if not isinstance(vocab_size, int) or isinstance(vocab_size, bool):
        raise TypeError(f"vocab_size must be a whole number of tokens (an int, e.g. 512), got {vocab_size!r}")
    if vocab_size < N_BYTES + len(specials):
        raise ValueError(
            f"vocab_size={vocab_size} is too small: it must be at least {N_BYTES} (one token per byte) "
            f"+ {len(specials)} special token(s) = {N_BYTES + len(specials)}"
        )
    pattern = resolve_pattern(pattern)
    compile_pattern(pattern)
    if not text:
        raise ValueError("cannot train on empty text: BPE learns merges from the pairs it sees")
    return pattern, specials, vocab_size - N_BYTES - len(specials)


def _pretokens(text: str, pattern: str, specials: Sequence[str]) -> list[str]:
    """Every chunk of ``text`` in order, special tokens removed (they are never learned)."""
    text = valid_unicode(text)
    pieces = special_regex(frozenset(specials)).split(text) if specials else [text]
    splitter = compile_pattern(pattern)
    chunks = [chunk for piece in pieces for chunk in splitter.findall(piece)]
    if not chunks:
        raise ValueError("cannot train on this text: nothing is left once the special tokens are removed")
    return chunks


def _finish(
    tokens, merges, specials, pattern, n_merges, log, start, name, stopped_early=False
) -> BPETokenizer:
    """Number the special tokens after the learned ones, warn if the text ran out of pairs, build."""
    if log is not None:
        log.stopped_early = stopped_early
    if len(merges) < n_merges and not stopped_early:
        warnings.warn(
            f"the text only allowed {len(merges)} merges (asked for {n_merges}): every chunk is a single token; "
            f"the vocabulary has {len(tokens) + len(specials)} tokens instead of {N_BYTES + n_merges + len(specials)}",
            stacklevel=3,
        )
    special_ids = {s: len(tokens) + i for i, s in enumerate(specials)}
    if log is not None:
        log.seconds = time.perf_counter() - start
    return BPETokenizer(tokens, merges, pattern=pattern, special_tokens=special_ids, name=name)


def train_naive(
    text: str,
    vocab_size: int,
    *,
    pattern: str = "gpt2",
    special_tokens: Sequence[str] = (),
    log: TrainingLog | None = None,
    time_limit: float | None = None,
) -> BPETokenizer:
    """The teaching trainer: after each merge, count every pair of the whole corpus again.

    Every chunk occurrence is kept (no de-duplication), so each merge costs a pass over all the
    text. ``time_limit`` (seconds) stops early, with ``log.stopped_early`` set; the benchmark uses
    it to extrapolate. Same rules and result as ``train_bpe`` (see the module docstring).
    """
    start = time.perf_counter()
    pattern, specials, n_merges = _check_training_args(text, vocab_size, pattern, special_tokens)
    chunks = [list(chunk.encode("utf-8")) for chunk in _pretokens(text, pattern, specials)]
    tokens = [bytes([b]) for b in range(N_BYTES)]
    known, skipped, merges, stopped_early = set(tokens), set(), [], False
    while len(merges) < n_merges:
        if time_limit is not None and time.perf_counter() - start > time_limit:
            stopped_early = True
            break
        counts: dict[tuple[int, int], int] = {}
        for ids in chunks:
            pair_counts(ids, counts)
        candidates = [(-c, pair) for pair, c in counts.items() if pair not in skipped]
        if not candidates:
            break
        neg_count, pair = min(candidates)  # most frequent; ties: smallest (left, right)
        if tokens[pair[0]] + tokens[pair[1]] in known:
            skipped.add(pair)
            if log is not None:
                log.skipped.append(pair)
            continue
        if log is not None:
            log.counts.append(-neg_count)
            log.n_tokens.append(sum(map(len, chunks)))
        new_id = len(tokens)
        tokens.append(tokens[pair[0]] + tokens[pair[1]])
        known.add(tokens[-1])
        merges.append(pair)
        chunks = [merge_pair(ids, pair, new_id) for ids in chunks]
    if log is not None:
        log.n_tokens.append(sum(map(len, chunks)))
    return _finish(tokens, merges, specials, pattern, n_merges, log, start, "bpe-naive", stopped_early)


def train_bpe(
    text: str,
    vocab_size: int,
    *,
    pattern: str = "gpt2",
    special_tokens: Sequence[str] = (),
    log: TrainingLog | None = None,
    progress: bool = False,
) -> BPETokenizer:
    """Train a byte-level BPE tokenizer with ``vocab_size`` ids (256 bytes + merges + specials).

    The fast trainer: identical merges to ``train_naive`` (same tie-break), computed incrementally
    on unique chunks (see the module docstring for what changed). ``progress=True`` shows a
    ``tqdm`` bar.
    """
    start = time.perf_counter()
    pattern, specials, n_merges = _check_training_args(text, vocab_size, pattern, special_tokens)
    chunk_counts = Counter(_pretokens(text, pattern, specials))
    words = [list(chunk.encode("utf-8")) for chunk in chunk_counts]
    weights = list(chunk_counts.values())
    n_tokens = sum(len(w) * c for w, c in zip(words, weights))

    counts: dict[tuple[int, int], int] = defaultdict(int)
    where: dict[tuple[int, int], set[int]] = defaultdict(set)  # pair -> words that (may) contain it
    for wi, (word, weight) in enumerate(zip(words, weights)):
        for pair in zip(word, word[1:]):
            counts[pair] += weight
            where[pair].add(wi)
    heap = [(-c, a, b) for (a, b), c in counts.items()]  # max count first, then smallest (a, b)
    heapq.heapify(heap)

    tokens = [bytes([b]) for b in range(N_BYTES)]
    known, skipped, merges = set(tokens), set(), []
    bar = None
    if progress:
        bar = tqdm(total=n_merges, desc="BPE merges")
    while len(merges) < n_merges and heap:
        neg_count, a, b = heapq.heappop(heap)
        pair = (a, b)
        if pair in skipped or counts.get(pair, 0) != -neg_count:
            continue  # stale entry: the count changed after it was pushed (a fresher entry exists)
        if tokens[a] + tokens[b] in known:
            skipped.add(pair)
            if log is not None:
                log.skipped.append(pair)
            continue
        if log is not None:
            log.counts.append(-neg_count)
            log.n_tokens.append(n_tokens)
        new_id = len(tokens)
        tokens.append(tokens[a] + tokens[b])
        known.add(tokens[-1])
        merges.append(pair)
        changed: dict[tuple[int, int], int] = defaultdict(int)
        for wi in where.pop(pair):
            word = words[wi]
            new_word = merge_pair(word, pair, new_id)
            if len(new_word) == len(word):
                continue  # an outdated index entry: this word no longer has the pair
            weight = weights[wi]
            n_tokens -= (len(word) - len(new_word)) * weight
            for p in zip(word, word[1:]):
                changed[p] -= weight
            for p in zip(new_word, new_word[1:]):
                changed[p] += weight
                if p[0] == new_id or p[1] == new_id:
                    where[p].add(wi)
            words[wi] = new_word
        for p, delta in changed.items():
            if delta == 0:
                continue
            c = counts[p] + delta
            if c > 0:
                counts[p] = c
                if p not in skipped:
                    heapq.heappush(heap, (-c, *p))
            else:
                del counts[p]
        counts.pop(pair, None)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    if log is not None:
        log.n_tokens.append(n_tokens)
    return _finish(tokens, merges, specials, pattern, n_merges, log, start, "bpe")
