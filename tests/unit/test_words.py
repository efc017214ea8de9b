"""text.words: the word tokenizers of chapter 2 (GPT-2's files and encoding: test_gpt2_encoding.py)."""

import pytest

from llmscratch.constants import ENDOFTEXT
from llmscratch.text.words import (
    UNK,
    SimpleTokenizerV1,
    SimpleTokenizerV2,
    UnknownWordError,
    build_vocab,
    split_words,
)

TEXT = 'The clock struck -- twice. "Again?" she asked, and waited.'


def test_split_words_keeps_punctuation_and_drops_spaces():
    assert split_words(TEXT) == [
        "The",
        "clock",
        "struck",
        "--",
        "twice",
        ".",
        '"',
        "Again",
        "?",
        '"',
        "she",
        "asked",
        ",",
        "and",
        "waited",
        ".",
    ]
    assert split_words("") == [] and split_words(" \n\t ") == []


def test_build_vocab_is_sorted_unique_with_specials_last():
    vocab = build_vocab("b a b c", specials=(ENDOFTEXT, UNK))
    assert vocab == {"a": 0, "b": 1, "c": 2, ENDOFTEXT: 3, UNK: 4}


def test_v1_round_trip_on_its_own_text():
    tok = SimpleTokenizerV1(build_vocab(TEXT))
    ids = tok.encode(TEXT)
    assert len(ids) == len(split_words(TEXT))
    assert (
        tok.decode(ids) == 'The clock struck -- twice." Again?" she asked, and waited.'
    )  # quotes lose their sides
    assert split_words(tok.decode(ids)) == split_words(TEXT)


def test_v1_unknown_word_says_v2_handles_it():
    tok = SimpleTokenizerV1(build_vocab(TEXT))
    with pytest.raises(UnknownWordError, match=r"'tea' is not in the vocabulary.*SimpleTokenizerV2"):
        tok.encode("The tea")


def test_v1_rejects_empty_vocab():
    with pytest.raises(ValueError, match="empty"):
        SimpleTokenizerV1({})


def test_v2_maps_unknown_words_and_keeps_endoftext():
    tok = SimpleTokenizerV2(build_vocab(TEXT))
    ids = tok.encode(f"The tea {ENDOFTEXT} The clock")
    assert ids == [
        tok.str_to_int["The"],
        tok.str_to_int[UNK],
        tok.str_to_int[ENDOFTEXT],
        tok.str_to_int["The"],
        tok.str_to_int["clock"],
    ]
    assert tok.decode(ids) == f"The {UNK} {ENDOFTEXT} The clock"
