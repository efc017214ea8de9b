"""Behaviour of ``llmscratch.text.bpe``: the BPE steps, both trainers, determinism, files, bad input.

Equality with tiktoken (GPT-2's ids, and our ranks run by tiktoken) lives in
``tests/equivalence/test_bpe_vs_tiktoken.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmscratch.constants import ENDOFTEXT
from llmscratch.text.bpe import (
    GPT4_PATTERN,
    N_BYTES,
    BPETokenizer,
    TrainingLog,
    merge_pair,
    pair_counts,
    train_bpe,
    train_naive,
)
from llmscratch.text.gpt2 import GPT2_PATTERN

TEXT = (
    "The low lowest lower newer newest wider widest. "
    "A clock ticks; the clockmaker's clocks tick, tock, tick!\n\n"
    "   Numbers 2024 and 1,000,000 -- café, naïve, 東京, 🙂🙂.\n"
) * 3


@pytest.fixture(scope="module")
def trained() -> BPETokenizer:
    return train_bpe(TEXT, 300, special_tokens=[ENDOFTEXT])


# ---- the two steps ---------------------------------------------------------------------------


def test_pair_counts_and_merge_pair():
    assert pair_counts([1, 2, 3, 1, 2]) == {(1, 2): 2, (2, 3): 1, (3, 1): 1}
    assert pair_counts([1, 2], {(1, 2): 5}, weight=3) == {(1, 2): 8}
    assert merge_pair([1, 2, 3, 1, 2], (1, 2), 256) == [256, 3, 256]
    assert merge_pair([5, 5, 5, 5, 5], (5, 5), 256) == [256, 256, 5]  # left to right, no overlap
    assert merge_pair([], (1, 2), 256) == [] and merge_pair([1], (1, 2), 256) == [1]


@pytest.mark.parametrize("train", [train_bpe, train_naive])
def test_wikipedia_example(train):
    """The classic example from Wikipedia's "Byte pair encoding" article, aaabdaaabac.

    Pairs: aa 4 (twice in each 'aaa'), ab 2, and bd, da, ba, ac once. So merge 0 is aa -> 256,
    leaving [256 a b d 256 a b a c]. Now (256, a) and (a, b) both occur twice: the tie-break takes
    the smaller pair, (97, 98) = ab -> 257, giving [256 257 d 256 257 a c]. Then (256, 257) occurs
    twice -> 258 = "aaab". Wikipedia's Z = aa, Y = ab, X = ZY, in the same order.
    """
    tok = train("aaabdaaabac", N_BYTES + 3)
    assert tok.merges == [(97, 97), (97, 98), (256, 257)]
    assert [tok.tokens[i] for i in (256, 257, 258)] == [b"aa", b"ab", b"aaab"]
    assert tok.encode("aaabdaaabac") == [258, ord("d"), 258, ord("a"), ord("c")]


# ---- fast trainer == naive trainer, determinism --------------------------------------------


@pytest.mark.parametrize(
    "text, vocab_size, kwargs",
    [
        (TEXT, 320, {}),
        (TEXT, 320, {"pattern": "gpt4"}),
        (TEXT, 300, {"special_tokens": [ENDOFTEXT, "<|pad|>"]}),
        (f"one doc{ENDOFTEXT}another doc{ENDOFTEXT}" * 5, 265, {"special_tokens": [ENDOFTEXT]}),
        ("aaaa aaaaa aaaaaa " * 4 + "\n\n\n   \t\t", 269, {}),
        (TEXT, 300, {"pattern": r"\S+|\s+"}),
    ],
    ids=["gpt2", "gpt4", "specials", "documents", "repeats", "custom-pattern"],
)
def test_fast_trainer_equals_naive_trainer(text, vocab_size, kwargs):
    fast, naive = TrainingLog(), TrainingLog()
    a = train_bpe(text, vocab_size, log=fast, **kwargs)
    b = train_naive(text, vocab_size, log=naive, **kwargs)
    assert a.merges == b.merges and a.tokens == b.tokens and a.special_tokens == b.special_tokens
    assert fast.counts == naive.counts and fast.n_tokens == naive.n_tokens
    assert a.vocab_size == vocab_size


@settings(max_examples=60, deadline=None)
@given(text=st.text(alphabet="ab c\n.'é🙂", min_size=1, max_size=80), extra=st.integers(0, 40))
def test_fast_equals_naive_on_random_text(text, extra):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tiny texts often run out of pairs
        assert train_bpe(text, N_BYTES + extra).merges == train_naive(text, N_BYTES + extra).merges


def test_training_log_tracks_the_shrinking_text():
    log = TrainingLog()
    tok = train_bpe(TEXT, 300, log=log)
    assert len(log.counts) == len(tok.merges) == 300 - N_BYTES
    assert log.n_tokens[0] == len(TEXT.encode("utf-8"))
    assert all(a > b for a, b in zip(log.n_tokens, log.n_tokens[1:]))  # every merge shortens the text
    assert all(c >= 2 for c in log.counts)  # a pair seen once would still be merged, but TEXT repeats 3x


def test_same_merges_in_a_fresh_process_with_another_hash_seed(tmp_path: Path):
    """No dict/set ordering leaks into the result: another PYTHONHASHSEED gives the same file."""
    ours = train_bpe(TEXT, 320).save(tmp_path / "here.json")
    code = (
        "import sys; from llmscratch.text.bpe import train_bpe; "
        f"train_bpe(sys.argv[1], 320).save({str(tmp_path / 'there.json')!r})"
    )
    env = {
        **os.environ,
        "PYTHONHASHSEED": "12345",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "shared"),
    }
    subprocess.run([sys.executable, "-c", code, TEXT], check=True, env=env)
    assert (tmp_path / "there.json").read_text(encoding="utf-8") == ours.read_text(encoding="utf-8")


def test_special_tokens_are_removed_from_training_and_numbered_last(trained):
    assert trained.special_tokens == {ENDOFTEXT: 299} and trained.vocab_size == 300
    tok = train_bpe(f"ab{ENDOFTEXT}" * 50, 258, special_tokens=[ENDOFTEXT])
    assert all(b"<|" not in t and b"|>" not in t for t in tok.tokens)  # never learned from its text


def test_too_little_text_warns_and_stops():
    with pytest.warns(UserWarning, match="only allowed 2 merges"):
        tok = train_bpe("abc", 300, special_tokens=[ENDOFTEXT])
    assert len(tok.merges) == 2 and tok.special_tokens == {ENDOFTEXT: 258}


# ---- encode / decode -----------------------------------------------------------------------


def test_encode_decode_special_tokens(trained):
    text = f"tick{ENDOFTEXT}tock"
    ids = trained.encode(text, allowed_special={ENDOFTEXT})
    assert ids.count(299) == 1 and trained.decode(ids) == text
    assert trained.encode(text, allowed_special="all") == ids
    plain = trained.encode(text, disallowed_special=())
    assert 299 not in plain and trained.decode(plain) == text
    assert trained.encode_ordinary(text) == plain


def test_long_chunks_merge_like_short_ones(trained):
    """The heap path for long chunks picks the same pairs as the simple rescan."""
    for piece in [b"low" * 40, b" " * 200, "café🙂".encode() * 30, bytes(range(256))]:
        assert trained._merge_long_chunk(piece) == _rescan(trained, piece)


def _rescan(tok: BPETokenizer, piece: bytes) -> list[int]:
    parts = [piece[i : i + 1] for i in range(len(piece))]
    while True:
        ranked = [
            (tok.ranks[a + b], i) for i, (a, b) in enumerate(zip(parts, parts[1:])) if a + b in tok.ranks
        ]
        if not ranked:
            return [tok.ranks[p] for p in parts]
        _, i = min(ranked)
        parts[i : i + 2] = [parts[i] + parts[i + 1]]


@settings(max_examples=150, deadline=None)
@given(text=st.text())
def test_decode_encode_round_trip_on_random_unicode(trained, text):
    assert trained.decode(trained.encode_ordinary(text)) == text


def test_lone_surrogates_become_replacement_characters(trained):
    assert trained.decode(trained.encode("a\ud800b")) == "a\ufffdb"
    assert trained.decode(trained.encode("\ud83d\ude42")) == "🙂"  # a pair written as two code points


def test_gpt4_pattern_splits_digits_in_threes():
    tok = train_bpe("1234567 " * 20, 260, pattern="gpt4")
    assert tok.pattern == GPT4_PATTERN
    assert [tok.decode([i]) for i in tok.encode("1234567")] == ["123", "456", "7"]


# ---- save / load ---------------------------------------------------------------------------


def test_save_load_round_trip(trained, tmp_path: Path):
    path = trained.save(tmp_path / "tok.json")
    loaded = BPETokenizer.load(path)
    assert (loaded.tokens, loaded.merges, loaded.pattern, loaded.special_tokens) == (
        trained.tokens,
        trained.merges,
        trained.pattern,
        trained.special_tokens,
    )
    assert loaded.encode(TEXT) == trained.encode(TEXT)
    text = path.read_text(encoding="utf-8")
    assert '"Ġt' in text or '"Ġc' in text  # tokens are readable, GPT-2 style
    assert len(text.splitlines()) > len(trained.tokens) + len(trained.merges)  # one per line
    assert json.loads(text)["pattern"] == GPT2_PATTERN


# ---- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "vocab_size, specials, needed",
    [(255, [], 256), (256, [ENDOFTEXT], 257), (100, ["<a>", "<b>"], 258)],
)
def test_vocab_size_too_small(vocab_size, specials, needed):
    with pytest.raises(ValueError, match=rf"vocab_size={vocab_size} is too small.*= {needed}"):
        train_bpe(TEXT, vocab_size, special_tokens=specials)


@pytest.mark.parametrize("train", [train_bpe, train_naive])
@pytest.mark.parametrize("vocab_size", [300.5, 300.0, True])
def test_vocab_size_must_be_an_int(train, vocab_size):
    with pytest.raises(
        TypeError,
        match=rf"vocab_size must be a whole number of tokens \(an int, e.g. 512\), got {vocab_size!r}",
    ):
        train(TEXT, vocab_size)


@pytest.mark.parametrize("train", [train_bpe, train_naive])
def test_empty_text(train):
    with pytest.raises(ValueError, match="empty text"):
        train("", 300)
    with pytest.raises(ValueError, match="nothing is left"):
        train(ENDOFTEXT * 3, 300, special_tokens=[ENDOFTEXT])


def test_bad_training_arguments():
    with pytest.raises(TypeError, match="must be a str"):
        train_bpe(b"bytes", 300)
    with pytest.raises(TypeError, match="list of strings"):
        train_bpe(TEXT, 300, special_tokens=ENDOFTEXT)
    with pytest.raises(ValueError, match="distinct non-empty"):
        train_bpe(TEXT, 300, special_tokens=[ENDOFTEXT, ENDOFTEXT])
    with pytest.raises(ValueError, match="collides with the single-byte token 33"):
        train_bpe(TEXT, 300, special_tokens=["!"])
    with pytest.raises(ValueError, match="not a valid regex"):
        train_bpe(TEXT, 300, pattern="(unclosed")


def _saved(trained, tmp_path) -> dict:
    return json.loads(trained.save(tmp_path / "tok.json").read_text(encoding="utf-8"))


def test_truncated_file(trained, tmp_path: Path):
    path = trained.save(tmp_path / "tok.json")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not valid JSON.*truncated or corrupted"):
        BPETokenizer.load(path)


def test_not_utf8_file(tmp_path: Path):
    path = tmp_path / "tok.json"
    path.write_bytes(b"\xff\xfe{}")
    with pytest.raises(ValueError, match="not UTF-8"):
        BPETokenizer.load(path)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d.update(format="other"), "not an llmscratch-bpe file"),
        (lambda d: d.update(version=99), "version=99"),
        (lambda d: d.pop("merges"), r"missing field\(s\) \['merges'\]"),
        (lambda d: d.update(tokens="abc"), "'tokens' must be a list of strings"),
        (lambda d: d.update(merges=[["a"]]), "string pairs"),
        (lambda d: d.update(special_tokens={ENDOFTEXT: "299"}), "integer ids"),
        (lambda d: d["tokens"].__setitem__(5, "a b"), "outside GPT-2's byte map"),
        (lambda d: d["tokens"].pop(), "298 tokens but 43 merges"),
        (lambda d: d["merges"].__setitem__(0, ["a", "b"]), "merge 0 .* does not build token 256"),
        (lambda d: d["merges"].__setitem__(0, ["nope", "b"]), "names a token that is not in 'tokens'"),
        (lambda d: d["tokens"].__setitem__(3, d["tokens"][4]), "single bytes, each once"),
        (
            lambda d: d.update(special_tokens={ENDOFTEXT: 100}),
            "id 100, which collides with the learned tokens 0..298",
        ),
        (lambda d: d.update(special_tokens={ENDOFTEXT: 299, "<|x|>": 299}), "share id 299"),
        (lambda d: d.update(pattern="[bad"), "not a valid regex"),
    ],
    ids=lambda x: x if isinstance(x, str) else "",
)
def test_malformed_file(trained, tmp_path: Path, edit, message):
    data = _saved(trained, tmp_path)
    edit(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        BPETokenizer.load(path)


def test_special_token_colliding_with_a_learned_token(trained):
    learned = next(t for t in trained.tokens[N_BYTES:] if t.isascii() and len(t) > 1).decode()
    with pytest.raises(ValueError, match=f"special token {learned!r} collides with learned token"):
        BPETokenizer(trained.tokens, trained.merges, special_tokens={learned: 299})


def test_bad_encode_and_decode_calls(trained):
    with pytest.raises(
        ValueError, match=r"special token '<\|endoftext\|>' at position 2, which is not allowed"
    ):
        trained.encode(f"ab{ENDOFTEXT}")
    with pytest.raises(ValueError, match="does not have"):
        trained.encode("ab", allowed_special={"<|nope|>"})
    with pytest.raises(ValueError, match=r"token id 300 is not in the vocabulary \(ids 0..299\)"):
        trained.decode([1, 300])
    with pytest.raises(ValueError, match="token id -1"):
        trained.token_bytes(-1)


def test_naive_time_limit_stops_early_without_warning():
    text = TEXT * 50
    log = TrainingLog()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # stopping on the time limit is not "ran out of pairs"
        tok = train_naive(text, 2000, log=log, time_limit=0.3)
    done = len(tok.merges)
    assert log.stopped_early and done < 2000 - N_BYTES
    assert tok.merges == train_bpe(text, N_BYTES + max(done, 1)).merges[:done]  # a prefix of the full run


# ---- the figure the BPE notebook draws (llmscratch.plots) --------------------------------


def test_plot_token_rows_draws_one_box_per_token(trained):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from llmscratch.plots import plot_token_rows, show_token

    assert show_token(" a\n\tb") == "\u2423a\u21b5\u2192b"
    text = "The clock ticks.\n"
    pieces = [trained.decode([i]) for i in trained.encode(text)]
    ax = plot_token_rows([("bytes", list(text)), ("trained", pieces)], title="t")
    assert len(ax.patches) == len(text) + len(pieces)
    assert "".join(t.get_text() for t in ax.texts if "(" not in t.get_text()).count(
        "\u2423"
    ) == 2 * text.count(" ")
    plt.close(ax.figure)
