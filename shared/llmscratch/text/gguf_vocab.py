"""The tokenizer stored in a GGUF file's metadata (SmolLM2's), run by our from-scratch BPE.

A GGUF file (``weights.gguf`` reads it) carries its model's whole tokenizer: the token texts (in
GPT-2's byte-to-character map), their types (ordinary or special), the merges, and the name of the
pre-tokenization regex. ``tokenizer_from_gguf`` rebuilds our ``BPETokenizer`` from them;
``MappedTokenizer`` renumbers its ids to the model's vocabulary order.
"""

from __future__ import annotations

from collections.abc import Collection

from .bpe import BPETokenizer
from .gpt2 import bytes_to_unicode

# Pre-tokenization regexes by llama.cpp's ``tokenizer.ggml.pre`` name. SmolLM's tokenizer first
# isolates every digit, then applies GPT-2's regex to the pieces; one regex does both: a single
# ``\p{N}`` instead of `` ?\p{N}+``, and a whitespace run right before a digit is kept whole (the
# digit split ended the piece there, so GPT-2's "leave the last space for the next word" never applies).
PRETOKENIZER_PATTERNS = {
    "gpt2": r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""",
    "smollm": r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+|\s+(?=\p{N})|\s+(?!\S)|\s+""",
}
_CONTROL_TOKEN = 3  # llama.cpp's token type for special (control) tokens


class MappedTokenizer:
    """A ``BPETokenizer`` whose ids are renumbered to a model's own vocabulary order.

    Our ``BPETokenizer`` numbers tokens its way (256 bytes first, then one id per merge, special
    tokens last); a pretrained model numbers them as its authors did (SmolLM2: 17 special tokens
    first). This wrapper runs our encoder and translates ids both ways; ``bpe`` is the inner tokenizer.
    """

    def __init__(
        self,
        bpe,
        model_ids: list[int],
        *,
        name: str = "bpe",
        bos_id: int | None = None,
        eos_id: int | None = None,
        pad_id: int | None = None,
    ):
        self.bpe = bpe
        self.name = name
        self._to_model = model_ids  # our id -> model id (-1: a byte the model has no token for)
        self._to_ours = {m: i for i, m in enumerate(model_ids) if m >= 0}
        self.special_tokens = {text: model_ids[i] for text, i in bpe.special_tokens.items()}
        self.bos_id, self.eos_id = bos_id, eos_id
        self.pad_id = eos_id if pad_id is None else pad_id  # fills batches; never attended to, never a target

    @property
    def vocab_size(self) -> int:
        return max(self._to_model) + 1

    def __repr__(self) -> str:
        return f"MappedTokenizer(name={self.name!r}, vocab_size={self.vocab_size}, merges={len(self.bpe.merges)})"

    def encode(self, text: str, *, allowed_special: Collection[str] | str = frozenset()) -> list[int]:
        """Model ids of ``text``, by ``text.protocol``'s special-token policy.

        Special-token text in ``text`` (``"<|im_start|>"``) is ordinary text unless it is named in
        ``allowed_special`` (or that is ``"all"``); prompt templates use ``special_id`` instead.
        A byte the model has no token for (SmolLM2 lacks a few control characters such as ``"\\x04"``)
        is dropped, as HuggingFace's tokenizer does.
        """
        to_model = self._to_model
        ids = self.bpe.encode(text, allowed_special=allowed_special, disallowed_special=())
        return [m for i in ids if (m := to_model[i]) >= 0]

    def special_id(self, token: str) -> int:
        """The model id of the special token ``token`` (e.g. ``"<|im_start|>"``)."""
        try:
            return self.special_tokens[token]
        except KeyError:
            raise ValueError(
                f"{self.name} has no special token {token!r}; it has {sorted(self.special_tokens)[:8]}"
            ) from None

    def decode(self, ids, errors: str = "replace") -> str:
        return self.decode_bytes(ids).decode("utf-8", errors=errors)

    def decode_bytes(self, ids) -> bytes:
        ours = []
        for i in ids.tolist() if hasattr(ids, "tolist") else ids:
            if i not in self._to_ours:
                raise ValueError(f"token id {i!r} is not in the vocabulary (ids 0..{self.vocab_size - 1})")
            ours.append(self._to_ours[i])
        return self.bpe.decode_bytes(ours)


def tokenizer_from_gguf(gguf) -> MappedTokenizer:
    """Our from-scratch ``BPETokenizer`` with the tokens and merges stored in a GGUF file.

    ``gguf`` is a ``weights.gguf.GGUFFile`` (anything with ``metadata`` and ``path`` will do).

    Tokens are stored as text with GPT-2's byte-to-character map; merges as ``"left right"``. Our
    tokenizer wants token ``256 + k`` to be built by merge ``k``, so tokens are renumbered: the 256
    bytes, then each merge's result in merge order. A merge whose result already exists (the same
    bytes reached by another split) is dropped: our encoder joins any adjacent pair whose joined bytes
    are a token, ranked by the first merge that made them.
    """
    meta = gguf.metadata
    if meta.get("tokenizer.ggml.model") != "gpt2":
        raise ValueError(
            f"{gguf.path.name}: tokenizer model {meta.get('tokenizer.ggml.model')!r} is not byte-level BPE ('gpt2')"
        )
    pre = meta.get("tokenizer.ggml.pre", "gpt2")
    if pre not in PRETOKENIZER_PATTERNS:
        raise ValueError(
            f"{gguf.path.name}: pre-tokenizer {pre!r} is not supported (known: {sorted(PRETOKENIZER_PATTERNS)})"
        )
    texts, types, merges = (
        meta["tokenizer.ggml.tokens"],
        meta["tokenizer.ggml.token_type"],
        meta["tokenizer.ggml.merges"],
    )
    to_byte = {ch: b for b, ch in bytes_to_unicode().items()}
    model_id = {}  # token bytes -> model id (ordinary tokens)
    specials = {}  # text -> model id
    for i, (text, kind) in enumerate(zip(texts, types)):
        if kind == _CONTROL_TOKEN:
            specials[text] = i
        else:
            model_id[bytes(to_byte[ch] for ch in text)] = i
    tokens = [bytes([b]) for b in range(256)]
    ours = {t: i for i, t in enumerate(tokens)}
    pairs = []
    for line in merges:
        left, right = (bytes(to_byte[ch] for ch in side) for side in line.split(" "))
        joined = left + right
        if joined in ours:
            continue  # a second merge path to the same token
        ours[joined] = len(tokens)
        tokens.append(joined)
        pairs.append((ours[left], ours[right]))
    unreachable = set(model_id) - set(ours)
    if unreachable:
        raise ValueError(
            f"{gguf.path.name}: {len(unreachable)} tokens are neither bytes nor built by a merge, e.g. {sorted(unreachable)[:3]}"
        )
    special_ours = {text: len(tokens) + k for k, text in enumerate(specials)}
    model_ids = [model_id.get(t, -1) for t in tokens] + list(specials.values())
    bpe = BPETokenizer(
        tokens, pairs, pattern=PRETOKENIZER_PATTERNS[pre], special_tokens=special_ours, name=pre
    )
    return MappedTokenizer(
        bpe,
        model_ids,
        name=pre,
        bos_id=meta.get("tokenizer.ggml.bos_token_id"),
        eos_id=meta.get("tokenizer.ggml.eos_token_id"),
        pad_id=meta.get("tokenizer.ggml.padding_token_id"),
    )
