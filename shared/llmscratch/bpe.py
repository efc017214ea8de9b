"""Byte-level byte-pair encoding (BPE) from scratch: train your own merges, encode, decode, save.

``tokenizer.py`` only *loads* GPT-2's finished merges into ``tiktoken``; this module holds the
algorithm itself, in plain Python, so you can train a vocabulary on any text:

- ``pair_counts`` / ``merge_pair``: the two small steps of BPE, with worked examples.
- ``train_naive``: the teaching trainer. After every merge it recounts every pair in the whole
  corpus, exactly like the notebook's hand-built version. Clear, and slow: each merge costs a full
  pass over the text.
- ``train_bpe``: the fast trainer. Same merges, same order (the test suite proves it), but it works
  on the *unique* pre-tokens weighted by their counts, keeps the pair counts up to date by visiting
  only the words a merge actually changes, and finds the best pair with a heap. What changed, exactly:
  (1) duplicate words are counted once with a weight; (2) pair counts are updated by the difference
  between a changed word's old and new pairs instead of being recounted; (3) an index from each pair
  to the words containing it means unchanged words are never looked at; (4) a heap with lazy deletion
  replaces the ``max`` over all pairs.
- ``BPETokenizer``: encode/decode with a trained vocabulary or with GPT-2's own (``load_gpt2()``), save
  and load as human-readable JSON, and ``to_tiktoken()`` to hand the same ranks to ``tiktoken``.

Rules shared by both trainers (and stated once here):

- Pre-tokenization: the text is split at special tokens (which are removed, so they are never
  learned), then into chunks by a regex (``pattern="gpt2"``, GPT-2's; ``"gpt4"``, the GPT-4/cl100k
  style; or your own). Merges never cross chunk boundaries. Chunks are UTF-8 encoded, so the 256
  byte values are the starting vocabulary and *any* string can be encoded.
- Tie-break: the most frequent pair wins; among equally frequent pairs, the one with the smallest
  ``(left id, right id)``. This depends only on the text, never on dict order or hash seeds, so the
  same input always gives the same merges.
- A pair whose joined bytes already form a token (two different merge paths to the same bytes) is
  skipped, so every token's bytes are unique; that is what ``tiktoken``'s ``{bytes: rank}`` needs.
- Ids: bytes are ids 0-255 (for a trained tokenizer, id = byte value), merge ``k`` creates id
  ``256 + k``, special tokens come after the learned tokens.

Encoding works like ``tiktoken`` (and so gives *exactly* its ids, including GPT-2's): split by the
regex; a chunk that is itself a token becomes that token; otherwise repeatedly join the adjacent pair
whose joined bytes have the lowest rank (id), leftmost first, until no adjacent pair is a token.
Invalid surrogates in the input are replaced by U+FFFD first, as ``tiktoken`` does.
"""

from __future__ import annotations

import functools
import heapq
import json
import time
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import AbstractSet, Collection, Iterable, Literal, Sequence

import regex

from .tokenizer import ENDOFTEXT, EOT_ID, GPT2_PATTERN, bytes_to_unicode, gpt2_files, load_gpt2_ranks

# GPT-4's (cl100k) pre-tokenization pattern as first published in tiktoken: case-insensitive
# contractions, a letter run with at most one leading non-letter, digits in groups of at most
# three, punctuation runs with trailing newlines, then whitespace. It runs unchanged in Python's
# ``regex`` and in tiktoken's Rust engine.
GPT4_PATTERN = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
)
PATTERNS = {"gpt2": GPT2_PATTERN, "gpt4": GPT4_PATTERN}

N_BYTES = 256  # the starting vocabulary: one token per byte value
FILE_FORMAT = "llmscratch-bpe"
FILE_VERSION = 1
_LONG_CHUNK = 64  # chunks longer than this (bytes) are merged with a heap instead of a rescan
_CACHE_LIMIT = 200_000  # chunk -> ids cache entries kept per tokenizer


# --------------------------------------------------------------------------------------------
# The two steps of BPE
# --------------------------------------------------------------------------------------------


def pair_counts(ids: Sequence[int], counts: dict[tuple[int, int], int] | None = None, weight: int = 1) -> dict[tuple[int, int], int]:
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


# --------------------------------------------------------------------------------------------
# The tokenizer
# --------------------------------------------------------------------------------------------


def _valid_unicode(text: str) -> str:
    """``text`` unchanged, or with invalid surrogates replaced by U+FFFD (as tiktoken does).

    Lone surrogates cannot be UTF-8 encoded; a surrogate *pair* written as two code points is
    joined into the character it stands for.
    """
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _resolve_pattern(pattern: str) -> str:
    if not isinstance(pattern, str) or not pattern:
        raise ValueError(f"pattern must be 'gpt2', 'gpt4' or a regex string, got {pattern!r}")
    return PATTERNS.get(pattern, pattern)


def _compile(pattern: str) -> regex.Pattern:
    try:
        return regex.compile(pattern)
    except regex.error as err:
        raise ValueError(f"pattern {pattern!r} is not a valid regex: {err}") from err


@functools.lru_cache(maxsize=64)
def _special_regex(specials: frozenset[str]) -> regex.Pattern:
    # Longest first, so a special token that contains another one wins.
    return regex.compile("|".join(regex.escape(s) for s in sorted(specials, key=lambda s: (-len(s), s))))


class BPETokenizer:
    """A byte-level BPE tokenizer: ``tokens[i]`` is the bytes of token ``i``.

    - ``tokens``: the 256 single bytes first (in any order), then token ``256 + k`` for merge ``k``.
    - ``merges``: ``(left id, right id)`` for each merge, in order; ``tokens[256 + k]`` must equal
      ``tokens[left] + tokens[right]`` (checked).
    - ``pattern``: the pre-tokenization regex (``"gpt2"``, ``"gpt4"`` or a regex string).
    - ``special_tokens``: ``{text: id}`` with ids after the learned tokens.

    Build one with ``train_bpe`` (or ``train_naive``), ``load_gpt2()`` or ``BPETokenizer.load(path)``.
    """

    def __init__(
        self,
        tokens: Sequence[bytes],
        merges: Sequence[tuple[int, int]],
        *,
        pattern: str = "gpt2",
        special_tokens: dict[str, int] | None = None,
        name: str = "bpe",
    ):
        tokens = [bytes(t) for t in tokens]
        merges = [(int(a), int(b)) for a, b in merges]
        special_tokens = dict(special_tokens or {})
        _check_vocabulary(tokens, merges, special_tokens)
        self.name = name
        self.tokens = tokens
        self.merges = merges
        self.pattern = _resolve_pattern(pattern)
        self.special_tokens = special_tokens
        self.ranks: dict[bytes, int] = {t: i for i, t in enumerate(tokens)}  # tiktoken's "mergeable ranks"
        self._regex = _compile(self.pattern)
        self._decoder = dict(enumerate(tokens)) | {i: s.encode("utf-8") for s, i in special_tokens.items()}
        self._cache: dict[str, list[int]] = {}

    # ---- sizes and views ---------------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        """Number of ids, learned and special (one more than the largest id)."""
        return max([len(self.tokens) - 1, *self.special_tokens.values()]) + 1

    def __repr__(self) -> str:
        return (
            f"BPETokenizer(name={self.name!r}, vocab_size={self.vocab_size}, merges={len(self.merges)}, "
            f"special_tokens={self.special_tokens})"
        )

    def clear_cache(self) -> None:
        """Forget the chunk -> ids cache that ``encode`` fills (for timing a cold start)."""
        self._cache.clear()

    def token_bytes(self, token_id: int) -> bytes:
        """The bytes of one token id (learned or special)."""
        try:
            return self._decoder[token_id]
        except (KeyError, TypeError):
            raise ValueError(f"token id {token_id!r} is not in the vocabulary (ids 0..{self.vocab_size - 1})") from None

    # ---- encoding ----------------------------------------------------------------------------
    def _merge_chunk(self, piece: bytes) -> list[int]:
        """Ids of one chunk: repeatedly join the adjacent pair with the lowest rank, leftmost first."""
        ranks = self.ranks
        token = ranks.get(piece)
        if token is not None:  # the whole chunk is a token (tiktoken checks this first, so must we)
            return [token]
        if len(piece) > _LONG_CHUNK:
            return self._merge_long_chunk(piece)
        parts = [piece[i : i + 1] for i in range(len(piece))]
        while len(parts) > 1:
            best_rank, best_i = None, -1
            for i in range(len(parts) - 1):
                rank = ranks.get(parts[i] + parts[i + 1])
                if rank is not None and (best_rank is None or rank < best_rank):
                    best_rank, best_i = rank, i
            if best_rank is None:
                break
            parts[best_i : best_i + 2] = [parts[best_i] + parts[best_i + 1]]
        return [ranks[p] for p in parts]

    def _merge_long_chunk(self, piece: bytes) -> list[int]:
        """The same merge order as ``_merge_chunk`` in O(n log n), for long chunks (e.g. 10k spaces).

        Parts are a linked list keyed by their start offset; the heap holds ``(rank, start, end)``
        for each adjacent pair, and an entry is stale once either part has changed. Ties in rank
        pop the smallest start offset first, i.e. the leftmost pair, as in the simple loop.
        """
        ranks, n = self.ranks, len(piece)
        nxt = list(range(1, n + 1))  # nxt[s]: start of the part after the part starting at s (n = end)
        prv = list(range(-1, n - 1))
        alive = [True] * n
        heap = []
        for s in range(n - 1):
            rank = ranks.get(piece[s : s + 2])
            if rank is not None:
                heap.append((rank, s, s + 2))
        heapq.heapify(heap)
        while heap:
            rank, s, end = heapq.heappop(heap)
            mid = nxt[s] if alive[s] else -1
            if mid < 0 or mid >= n or nxt[mid] != end:  # stale: a part changed since this was pushed
                continue
            alive[mid] = False  # join part s with the part starting at mid
            nxt[s] = end
            if end < n:
                prv[end] = s
            if end < n:  # new pair (s, next part)
                r = ranks.get(piece[s : nxt[end]])
                if r is not None:
                    heapq.heappush(heap, (r, s, nxt[end]))
            p = prv[s]
            if p >= 0:  # new pair (previous part, s)
                r = ranks.get(piece[p:end])
                if r is not None:
                    heapq.heappush(heap, (r, p, end))
        out, s = [], 0
        while s < n:
            out.append(ranks[piece[s : nxt[s]]])
            s = nxt[s]
        return out

    def encode_ordinary(self, text: str) -> list[int]:
        """Encode ``text`` ignoring special tokens (``<|endoftext|>`` is just 13 characters here)."""
        text = _valid_unicode(text)
        cache, out = self._cache, []
        for chunk in self._regex.findall(text):
            ids = cache.get(chunk)
            if ids is None:
                ids = self._merge_chunk(chunk.encode("utf-8"))
                if len(cache) < _CACHE_LIMIT:
                    cache[chunk] = ids
            out += ids
        return out

    def encode(
        self,
        text: str,
        *,
        allowed_special: Literal["all"] | AbstractSet[str] = frozenset(),
        disallowed_special: Literal["all"] | Collection[str] = "all",
    ) -> list[int]:
        """Encode ``text``; special tokens follow tiktoken's rules.

        A special token in ``allowed_special`` becomes its single id. One in ``disallowed_special``
        (by default every special token not allowed) raises ``ValueError``, because text from a user
        should not be able to smuggle in a document boundary by accident. Pass
        ``disallowed_special=()`` to encode such text as ordinary characters.
        """
        specials = set(self.special_tokens)
        allowed = specials if allowed_special == "all" else set(allowed_special)
        unknown = allowed - specials
        if unknown:
            raise ValueError(f"allowed_special names tokens this tokenizer does not have: {sorted(unknown)}; it has {sorted(specials)}")
        disallowed = specials - allowed if disallowed_special == "all" else set(disallowed_special)
        if disallowed:
            found = _special_regex(frozenset(disallowed)).search(text)
            if found:
                token = found.group()
                raise ValueError(
                    f"text contains the special token {token!r} at position {found.start()}, which is not allowed: "
                    f"pass allowed_special={{{token!r}}} to encode it as the single token "
                    f"{self.special_tokens.get(token)}, or disallowed_special=() to encode it as plain text"
                )
        if not allowed:
            return self.encode_ordinary(text)
        text = _valid_unicode(text)
        out, start = [], 0
        for found in _special_regex(frozenset(allowed)).finditer(text):
            out += self.encode_ordinary(text[start : found.start()])
            out.append(self.special_tokens[found.group()])
            start = found.end()
        out += self.encode_ordinary(text[start:])
        return out

    # ---- decoding ----------------------------------------------------------------------------
    def decode_bytes(self, ids: Iterable[int]) -> bytes:
        """The bytes the ids stand for (may end inside a multi-byte character)."""
        ids = list(ids)
        try:
            return b"".join([self._decoder[i] for i in ids])
        except (KeyError, TypeError):
            bad = next(i for i in ids if i not in self._decoder)
            raise ValueError(f"token id {bad!r} is not in the vocabulary (ids 0..{self.vocab_size - 1})") from None

    def decode(self, ids: Iterable[int], errors: str = "replace") -> str:
        """Text of the ids; bytes that are not valid UTF-8 become U+FFFD (as in tiktoken)."""
        return self.decode_bytes(ids).decode("utf-8", errors=errors)

    # ---- interop -----------------------------------------------------------------------------
    def to_tiktoken(self, name: str | None = None):
        """The same tokenizer as a ``tiktoken.Encoding`` (Rust, multi-threaded batch encoding)."""
        import tiktoken

        return tiktoken.Encoding(
            name=name or self.name, pat_str=self.pattern, mergeable_ranks=dict(self.ranks), special_tokens=dict(self.special_tokens)
        )

    # ---- files -------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """Everything needed to rebuild the tokenizer, as JSON-ready data (tokens shown GPT-2 style)."""
        show = bytes_to_unicode()
        text = ["".join(show[b] for b in t) for t in self.tokens]
        return {
            "format": FILE_FORMAT,
            "version": FILE_VERSION,
            "about": "Byte-level BPE. Token id = position in 'tokens'. Tokens are written with GPT-2's "
            "byte-to-character map (a space is 'Ġ', a newline 'Ċ'). Merge k joins its two tokens into token 256 + k.",
            "name": self.name,
            "pattern": self.pattern,
            "special_tokens": dict(self.special_tokens),
            "tokens": text,
            "merges": [[text[a], text[b]] for a, b in self.merges],
        }

    def save(self, path: str | Path) -> Path:
        """Write the tokenizer as human-readable JSON (one token or merge per line)."""
        data = self.to_dict()
        head = {k: v for k, v in data.items() if k not in ("tokens", "merges")}
        dump = lambda x: json.dumps(x, ensure_ascii=False)  # noqa: E731
        lines = ["{"]
        lines += [f" {dump(k)}: {dump(v)}," for k, v in head.items()]
        lines += [' "tokens": [', ",\n".join("  " + dump(t) for t in data["tokens"]), " ],"]
        lines += [' "merges": [', ",\n".join("  " + dump(m) for m in data["merges"]), " ]", "}"]
        path = Path(path)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    @classmethod
    def from_dict(cls, data: dict, *, source: str = "tokenizer data") -> "BPETokenizer":
        """Rebuild a tokenizer from ``to_dict()`` output; every field is checked."""
        if not isinstance(data, dict):
            raise ValueError(f"{source}: expected a JSON object, got {type(data).__name__}")
        if data.get("format") != FILE_FORMAT or data.get("version") != FILE_VERSION:
            raise ValueError(
                f"{source}: not an {FILE_FORMAT} file version {FILE_VERSION} "
                f"(format={data.get('format')!r}, version={data.get('version')!r})"
            )
        missing = [k for k in ("pattern", "special_tokens", "tokens", "merges") if k not in data]
        if missing:
            raise ValueError(f"{source}: missing field(s) {missing}")
        tokens, merges, specials = data["tokens"], data["merges"], data["special_tokens"]
        if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
            raise ValueError(f"{source}: 'tokens' must be a list of strings")
        if not isinstance(merges, list) or not all(isinstance(m, list) and len(m) == 2 and all(isinstance(x, str) for x in m) for m in merges):
            raise ValueError(f"{source}: 'merges' must be a list of [left, right] string pairs")
        if not isinstance(specials, dict) or not all(isinstance(i, int) and not isinstance(i, bool) for i in specials.values()):
            raise ValueError(f"{source}: 'special_tokens' must map strings to integer ids")
        to_byte = {ch: b for b, ch in bytes_to_unicode().items()}
        raw = []
        for i, t in enumerate(tokens):
            bad = [ch for ch in t if ch not in to_byte]
            if bad or not t:
                raise ValueError(f"{source}: token {i} ({t!r}) is empty or has characters outside GPT-2's byte map: {bad}")
            raw.append(bytes(to_byte[ch] for ch in t))
        ids = {t: i for i, t in enumerate(tokens)}
        pairs = []
        for k, (left, right) in enumerate(merges):
            if left not in ids or right not in ids:
                raise ValueError(f"{source}: merge {k} ({left!r}, {right!r}) names a token that is not in 'tokens'")
            pairs.append((ids[left], ids[right]))
        return cls(raw, pairs, pattern=data["pattern"], special_tokens=specials, name=data.get("name", "bpe"))

    @classmethod
    def load(cls, path: str | Path) -> "BPETokenizer":
        """Read a file written by ``save``; a truncated or edited file gets a clear ``ValueError``."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as err:
            raise ValueError(f"{path} is not UTF-8 text ({err}); is it a tokenizer file?") from err
        except json.JSONDecodeError as err:
            raise ValueError(
                f"{path} is not valid JSON ({err.msg} at line {err.lineno}, column {err.colno}): "
                "the file is truncated or corrupted; save the tokenizer again"
            ) from err
        return cls.from_dict(data, source=str(path.name))


def _check_vocabulary(tokens: list[bytes], merges: list[tuple[int, int]], special_tokens: dict[str, int]) -> None:
    """Raise ``ValueError`` unless tokens, merges and special tokens fit together (see BPETokenizer)."""
    if len(tokens) < N_BYTES or sorted(tokens[:N_BYTES]) != [bytes([b]) for b in range(N_BYTES)]:
        raise ValueError(f"the first {N_BYTES} tokens must be the {N_BYTES} single bytes, each once (got {len(tokens)} tokens)")
    if len(tokens) != N_BYTES + len(merges):
        raise ValueError(f"{len(tokens)} tokens but {len(merges)} merges: expected {N_BYTES} + {len(merges)} = {N_BYTES + len(merges)} tokens")
    for k, (a, b) in enumerate(merges):
        new = N_BYTES + k
        if not (0 <= a < new and 0 <= b < new) or tokens[a] + tokens[b] != tokens[new]:
            raise ValueError(f"merge {k} ({a}, {b}) does not build token {new} ({tokens[new]!r}) from earlier tokens")
    if len(set(tokens)) != len(tokens):
        dup = next(t for t, c in Counter(tokens).items() if c > 1)
        raise ValueError(f"token bytes {dup!r} appear more than once; every token must be unique")
    learned = set(tokens)
    ids_seen = {}
    for text, i in special_tokens.items():
        if not isinstance(text, str) or not text:
            raise ValueError(f"special tokens must be non-empty strings, got {text!r}")
        if not isinstance(i, int) or i < len(tokens):
            raise ValueError(f"special token {text!r} has id {i}, which collides with the learned tokens 0..{len(tokens) - 1}")
        if i in ids_seen:
            raise ValueError(f"special tokens {ids_seen[i]!r} and {text!r} share id {i}")
        ids_seen[i] = text
        if text.encode("utf-8") in learned:
            raise ValueError(f"special token {text!r} collides with learned token {tokens.index(text.encode('utf-8'))} (same bytes)")


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------


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


def _check_training_args(text: str, vocab_size: int, pattern: str, special_tokens: Sequence[str]) -> tuple[str, list[str], int]:
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if isinstance(special_tokens, str):
        raise TypeError(f"special_tokens must be a list of strings, got the string {special_tokens!r}")
    specials = list(special_tokens)
    if len(set(specials)) != len(specials) or not all(isinstance(s, str) and s for s in specials):
        raise ValueError(f"special tokens must be distinct non-empty strings, got {specials!r}")
    for s in specials:
        if len(s.encode("utf-8")) == 1:
            raise ValueError(f"special token {s!r} collides with the single-byte token {ord(s)}; choose a longer string such as '<|{s}|>'")
    if not isinstance(vocab_size, int) or isinstance(vocab_size, bool):
        raise TypeError(f"vocab_size must be a whole number of tokens (an int, e.g. 512), got {vocab_size!r}")
    if vocab_size < N_BYTES + len(specials):
        raise ValueError(
            f"vocab_size={vocab_size} is too small: it must be at least {N_BYTES} (one token per byte) "
            f"+ {len(specials)} special token(s) = {N_BYTES + len(specials)}"
        )
    pattern = _resolve_pattern(pattern)
    _compile(pattern)
    if not text:
        raise ValueError("cannot train on empty text: BPE learns merges from the pairs it sees")
    return pattern, specials, vocab_size - N_BYTES - len(specials)


def _pretokens(text: str, pattern: str, specials: Sequence[str]) -> list[str]:
    """Every chunk of ``text`` in order, special tokens removed (they are never learned)."""
    text = _valid_unicode(text)
    pieces = _special_regex(frozenset(specials)).split(text) if specials else [text]
    splitter = _compile(pattern)
    chunks = [chunk for piece in pieces for chunk in splitter.findall(piece)]
    if not chunks:
        raise ValueError("cannot train on this text: nothing is left once the special tokens are removed")
    return chunks


def _finish(tokens, merges, specials, pattern, n_merges, log, start, name, stopped_early=False) -> BPETokenizer:
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
        from tqdm.auto import tqdm

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


# --------------------------------------------------------------------------------------------
# GPT-2's own merges
# --------------------------------------------------------------------------------------------


def load_gpt2() -> BPETokenizer:
    """GPT-2's tokenizer as a ``BPETokenizer``, from the offline ``vocab.bpe``/``encoder.json``.

    The same ranks ``tokenizer.gpt2_encoding()`` hands to tiktoken, plus the 50,000 merges read
    from ``vocab.bpe`` (GPT-2's single bytes are ids 0-255 but not in byte order: ``'!'`` is 0).
    """
    vocab_bpe, encoder_json = gpt2_files()
    ranks = load_gpt2_ranks(vocab_bpe, encoder_json)
    tokens = sorted(ranks, key=ranks.__getitem__)
    to_byte = {ch: b for b, ch in bytes_to_unicode().items()}
    lines = Path(vocab_bpe).read_text(encoding="utf-8").split("\n")[1:]  # line 0 is a version tag
    merges = [tuple(ranks[bytes(to_byte[ch] for ch in side)] for side in line.split()) for line in lines if line]
    return BPETokenizer(tokens, merges, pattern="gpt2", special_tokens={ENDOFTEXT: EOT_ID}, name="gpt2")
