"""``BPETokenizer``: encode and decode with a finished vocabulary, exactly like tiktoken; JSON files.

The tokenizer learns nothing: ``train.py`` makes its tokens and merges from text, ``gpt2.py``
reads GPT-2's. Encoding splits the text into chunks (``pattern.py``); a chunk that is itself a
token becomes that token (the whole-chunk shortcut tiktoken takes first, so we must too);
otherwise the adjacent pair whose joined bytes have the lowest rank (id) is joined, leftmost first,
until no adjacent pair is a token. Files are human-readable JSON, written atomically.
"""

from __future__ import annotations

import heapq
import json
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from collections.abc import Set as AbstractSet
from itertools import chain
from pathlib import Path
from typing import Literal

import tiktoken

from ...fileio import atomic_write
from ..gpt2 import bytes_to_unicode
from .merge import N_BYTES
from .pattern import compile_pattern, fast_splitter, resolve_pattern, special_regex, valid_unicode

FILE_FORMAT = "llmscratch-bpe"
FILE_VERSION = 1
_LONG_CHUNK = 64  # chunks longer than this (bytes) are merged with a heap instead of a rescan
_CACHE_LIMIT = 200_000  # chunk -> ids cache entries kept per tokenizer


class _ChunkCache(dict):
    """``{chunk text: ids}``; a missing chunk is merged (``merge(chunk bytes)``) on lookup and kept,
    up to ``_CACHE_LIMIT`` entries (beyond that, new chunks are merged every time)."""

    def __init__(self, merge):
        super().__init__()
        self._merge = merge

    def __missing__(self, chunk: str) -> list[int]:
        ids = self._merge(chunk.encode("utf-8"))
        if len(self) < _CACHE_LIMIT:
            self[chunk] = ids
        return ids


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
        self.pattern = resolve_pattern(pattern)
        self.special_tokens = special_tokens
        self.ranks: dict[bytes, int] = {t: i for i, t in enumerate(tokens)}  # tiktoken's "mergeable ranks"
        self._regex = compile_pattern(self.pattern)
        self._splitter = fast_splitter(self.pattern, self._regex)
        self._decoder = dict(enumerate(tokens)) | {i: s.encode("utf-8") for s, i in special_tokens.items()}
        self._cache = _ChunkCache(self._merge_chunk)

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
            raise ValueError(
                f"token id {token_id!r} is not in the vocabulary (ids 0..{self.vocab_size - 1})"
            ) from None

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
        """Encode ``text`` ignoring special tokens (``<|endoftext|>`` is just 13 characters here).

        The ids of each distinct chunk are computed once and kept in a cache (most chunks of a text
        are common words); looking chunks up and joining their ids runs inside ``map`` and
        ``itertools.chain``, so Python's interpreter loop only sees chunks it has not met before.
        """
        text = valid_unicode(text)
        chunks = self._splitter.findall(text)  # (same chunks as self._regex.findall, faster)
        return list(chain.from_iterable(map(self._cache.__getitem__, chunks)))

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
            raise ValueError(
                f"allowed_special names tokens this tokenizer does not have: {sorted(unknown)}; it has {sorted(specials)}"
            )
        disallowed = specials - allowed if disallowed_special == "all" else set(disallowed_special)
        if disallowed:
            found = special_regex(frozenset(disallowed)).search(text)
            if found:
                token = found.group()
                raise ValueError(
                    f"text contains the special token {token!r} at position {found.start()}, which is not allowed: "
                    f"pass allowed_special={{{token!r}}} to encode it as the single token "
                    f"{self.special_tokens.get(token)}, or disallowed_special=() to encode it as plain text"
                )
        if not allowed:
            return self.encode_ordinary(text)
        text = valid_unicode(text)
        out, start = [], 0
        for found in special_regex(frozenset(allowed)).finditer(text):
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
            raise ValueError(
                f"token id {bad!r} is not in the vocabulary (ids 0..{self.vocab_size - 1})"
            ) from None

    def decode(self, ids: Iterable[int], errors: str = "replace") -> str:
        """Text of the ids; bytes that are not valid UTF-8 become U+FFFD (as in tiktoken)."""
        return self.decode_bytes(ids).decode("utf-8", errors=errors)

    # ---- interop -----------------------------------------------------------------------------
    def to_tiktoken(self, name: str | None = None):
        """The same tokenizer as a ``tiktoken.Encoding`` (Rust, multi-threaded batch encoding)."""
        return tiktoken.Encoding(
            name=name or self.name,
            pat_str=self.pattern,
            mergeable_ranks=dict(self.ranks),
            special_tokens=dict(self.special_tokens),
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
        with atomic_write(path, "w", encoding="utf-8") as f:  # a crash never leaves half a tokenizer file
            f.write("\n".join(lines) + "\n")
        return path

    @classmethod
    def from_dict(cls, data: dict, *, source: str = "tokenizer data") -> BPETokenizer:
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
        if not isinstance(merges, list) or not all(
            isinstance(m, list) and len(m) == 2 and all(isinstance(x, str) for x in m) for m in merges
        ):
            raise ValueError(f"{source}: 'merges' must be a list of [left, right] string pairs")
        if not isinstance(specials, dict) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in specials.values()
        ):
            raise ValueError(f"{source}: 'special_tokens' must map strings to integer ids")
        to_byte = {ch: b for b, ch in bytes_to_unicode().items()}
        raw = []
        for i, t in enumerate(tokens):
            bad = [ch for ch in t if ch not in to_byte]
            if bad or not t:
                raise ValueError(
                    f"{source}: token {i} ({t!r}) is empty or has characters outside GPT-2's byte map: {bad}"
                )
            raw.append(bytes(to_byte[ch] for ch in t))
        ids = {t: i for i, t in enumerate(tokens)}
        pairs = []
        for k, (left, right) in enumerate(merges):
            if left not in ids or right not in ids:
                raise ValueError(
                    f"{source}: merge {k} ({left!r}, {right!r}) names a token that is not in 'tokens'"
                )
            pairs.append((ids[left], ids[right]))
        return cls(raw, pairs, pattern=data["pattern"], special_tokens=specials, name=data.get("name", "bpe"))

    @classmethod
    def load(cls, path: str | Path) -> BPETokenizer:
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


def _check_vocabulary(
    tokens: list[bytes], merges: list[tuple[int, int]], special_tokens: dict[str, int]
) -> None:
    """Raise ``ValueError`` unless tokens, merges and special tokens fit together (see BPETokenizer)."""
    if len(tokens) < N_BYTES or sorted(tokens[:N_BYTES]) != [bytes([b]) for b in range(N_BYTES)]:
        raise ValueError(
            f"the first {N_BYTES} tokens must be the {N_BYTES} single bytes, each once (got {len(tokens)} tokens)"
        )
    if len(tokens) != N_BYTES + len(merges):
        raise ValueError(
            f"{len(tokens)} tokens but {len(merges)} merges: expected {N_BYTES} + {len(merges)} = {N_BYTES + len(merges)} tokens"
        )
    for k, (a, b) in enumerate(merges):
        new = N_BYTES + k
        if not (0 <= a < new and 0 <= b < new) or tokens[a] + tokens[b] != tokens[new]:
            raise ValueError(
                f"merge {k} ({a}, {b}) does not build token {new} ({tokens[new]!r}) from earlier tokens"
            )
    if len(set(tokens)) != len(tokens):
        dup = next(t for t, c in Counter(tokens).items() if c > 1)
        raise ValueError(f"token bytes {dup!r} appear more than once; every token must be unique")
    learned = set(tokens)
    ids_seen = {}
    for text, i in special_tokens.items():
        if not isinstance(text, str) or not text:
            raise ValueError(f"special tokens must be non-empty strings, got {text!r}")
        if not isinstance(i, int) or i < len(tokens):
            raise ValueError(
                f"special token {text!r} has id {i}, which collides with the learned tokens 0..{len(tokens) - 1}"
            )
        if i in ids_seen:
            raise ValueError(f"special tokens {ids_seen[i]!r} and {text!r} share id {i}")
        ids_seen[i] = text
        if text.encode("utf-8") in learned:
            raise ValueError(
                f"special token {text!r} collides with learned token {tokens.index(text.encode('utf-8'))} (same bytes)"
            )
