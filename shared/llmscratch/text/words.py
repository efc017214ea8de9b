"""The word tokenizers of chapter 2: text -> words -> ids with a vocabulary built from the text.

- ``split_words`` / ``build_vocab``: the word-level pieces built by hand in the notebook.
- ``SimpleTokenizerV1``: encode/decode with a fixed vocabulary; unknown words are an error.
- ``SimpleTokenizerV2``: adds ``<|unk|>`` for unknown words and ``<|endoftext|>`` between documents.
- ``WordTokenizer``: ``SimpleTokenizerV2`` with the shared tokenizer interface (quick-mode tiny models).

These work on whole words. The sub-word tokenizers live next door: ``gpt2`` loads GPT-2's finished
byte-pair encoding into ``tiktoken``; ``bpe/`` trains and runs BPE from scratch.
"""

from __future__ import annotations

import re

from ..constants import ENDOFTEXT

UNK = "<|unk|>"


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


class WordTokenizer(SimpleTokenizerV2):
    """``SimpleTokenizerV2`` with the shared tokenizer interface (``text.protocol.TextTokenizer``).

    Quick-mode notebooks pair it with a tiny model: a vocabulary of a few thousand words built from
    our own texts keeps the output layer (and so every step) small. ``<|endoftext|>`` ends and pads
    texts (``eos_id == pad_id``). As the protocol asks, ``encode`` reads a special token written in
    the text as ordinary characters unless ``allowed_special`` lets it through.

    >>> tok = WordTokenizer(build_vocab("the plural of mouse is mice ."))
    >>> tok.decode(tok.encode("the plural of mouse is mice.")), tok.decode(tok.encode("geese"))
    ('the plural of mouse is mice.', '<|unk|>')
    """

    name = "words"

    def __init__(self, vocab: dict[str, int]):
        super().__init__(vocab)
        self.eos_id = self.pad_id = self.str_to_int[ENDOFTEXT]
        self.vocab_size = len(self.str_to_int)

    def special_id(self, token: str) -> int:
        if token not in (ENDOFTEXT, UNK):
            raise ValueError(
                f"this tokenizer has no special token {token!r}; it has {ENDOFTEXT!r} and {UNK!r}"
            )
        return self.str_to_int[token]

    def encode(self, text: str, *, allowed_special=frozenset()) -> list[int]:
        if allowed_special == "all" or ENDOFTEXT in allowed_special:
            return super().encode(text)
        unk = self.str_to_int[UNK]
        return [self.str_to_int.get(word, unk) for word in split_words(text)]

    def decode(self, ids) -> str:
        return super().decode([int(i) for i in ids])
