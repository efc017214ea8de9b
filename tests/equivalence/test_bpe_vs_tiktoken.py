"""Our BPE encoder gives exactly tiktoken's ids: with GPT-2's merges, and with merges we trained.

1. GPT-2: ``load_gpt2()`` (our pure-Python encoder on the offline ``vocab.bpe``/``encoder.json``)
   against a reference built by tiktoken itself from the same files with its own loader and its
   own GPT-2 pattern ``r50k_pat_str`` (written differently from the GPT-2 regex we use). Checked on
   the bundled story, an edge-case suite and random text.
2. Our trained tokenizers (GPT-2 and GPT-4 patterns, with a special token) handed to
   ``tiktoken.Encoding`` through ``to_tiktoken()``, also after a save/load round trip.
"""

from __future__ import annotations

import pytest
import tiktoken
import tiktoken.load
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tiktoken_ext.openai_public import r50k_pat_str

from llmscratch.assets import load_text
from llmscratch.constants import ENDOFTEXT, EOT_ID
from llmscratch.settings import pick
from llmscratch.text.bpe import BPETokenizer, load_gpt2, train_bpe
from llmscratch.text.gpt2 import gpt2_files

EDGE_CASES = {
    "empty": "",
    "one space": " ",
    "space runs": "a  b   c    d     e",
    "leading/trailing": "   leading and trailing   ",
    "only whitespace": "   \n  \t \r\n ",
    "newline runs": "\n\n\nnew\n\nlines\r\n\r\n\n",
    "space before newline": "end of line   \nnext  \n\n  x",
    "tabs": "tabs\tand\t\tspaces \t mixed",
    "contractions": "I'm sure they'll say it's John's, we've, you're, I'd, 'twas, rock 'n' roll",
    "shouted contractions": "DON'T SHOUT'S THEY'LL",
    "curly apostrophe": "it’s don’t",
    "digits": "1234567890 3.14159 1,000,000 -42 007 2024-11-24 ½ ²",
    "punctuation": "Hello!!! ...what?!? (yes) [no] {maybe} <tag/> #hash @at $5 100% -- --- ''' \"\"\"",
    "code": "def f(x):\n    return x**2  # square\n\tif a!=b: pass",
    "accents": "café naïve résumé Ångström façade Ελληνικά Кириллица",
    "combining": "e\u0301 n\u0303 a\u030a",
    "CJK": "日本語のテキスト、中文文本。한국어 テスト",
    "emoji": "emoji 🙂👍🏽 family 👨‍👩‍👧 flags 🇩🇪 keycap 1️⃣",
    "glued emoji": "mixed🙂text🙂🙂",
    "control chars": "nul\x00 bell\x07 del\x7f nbsp\u00a0 zwsp\u200b",
    "long letter run": "x" * 500,
    "long space run": " " * 300 + "x",
    "long newline run": "\n" * 200,
    "long digit run": "9" * 257,
    "long emoji run": "🙂" * 100,
    "rare words": "someunknownPlace terraces sunlit antidisestablishmentarianism",
}


@pytest.fixture(scope="module")
def reference() -> tiktoken.Encoding:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TIKTOKEN_CACHE_DIR", "")  # tiktoken: read the local files, cache nothing
        ranks = tiktoken.load.data_gym_to_mergeable_bpe_ranks(*(str(p) for p in gpt2_files()))
    return tiktoken.Encoding(
        name="gpt2-reference", pat_str=r50k_pat_str, mergeable_ranks=ranks, special_tokens={ENDOFTEXT: EOT_ID}
    )


@pytest.fixture(scope="module")
def gpt2() -> BPETokenizer:
    return load_gpt2()


# ---- GPT-2's merges -------------------------------------------------------------------------


def test_same_ranks_and_merges(gpt2, reference):
    assert gpt2.ranks == reference._mergeable_ranks
    assert len(gpt2.merges) == 50_000 and gpt2.vocab_size == reference.n_vocab


@pytest.mark.parametrize("text", EDGE_CASES.values(), ids=EDGE_CASES.keys())
def test_gpt2_ids_on_edge_cases(gpt2, reference, text):
    ours = gpt2.encode(text)
    assert ours == reference.encode(text)
    assert gpt2.decode(ours) == text == reference.decode(ours)


def test_gpt2_ids_on_the_bundled_story(gpt2, reference):
    story = load_text()
    assert gpt2.encode_ordinary(story) == reference.encode_ordinary(story)
    docs = ENDOFTEXT.join([story[:5000], story[5000:9000], ""])
    assert gpt2.encode(docs, allowed_special={ENDOFTEXT}) == reference.encode(
        docs, allowed_special={ENDOFTEXT}
    )


@pytest.mark.parametrize(
    "text", ["bad \ud800 surrogate", "\udfff", "pair \ud83d\ude42 as two", "\ud800\ud800x"]
)
def test_gpt2_invalid_surrogates_replaced_like_tiktoken(gpt2, reference, text):
    assert gpt2.encode(text) == reference.encode(text)
    assert gpt2.decode(gpt2.encode(text)) == reference.decode(reference.encode(text))


def test_gpt2_endoftext_allowed_and_disallowed(gpt2, reference):
    text = f"end{ENDOFTEXT}start {ENDOFTEXT}"
    for kwargs in ({"allowed_special": {ENDOFTEXT}}, {"allowed_special": "all"}, {"disallowed_special": ()}):
        assert gpt2.encode(text, **kwargs) == reference.encode(text, **kwargs), kwargs
    assert gpt2.encode(text, allowed_special="all").count(EOT_ID) == 2
    assert EOT_ID not in gpt2.encode(text, disallowed_special=())
    for enc in (gpt2, reference):  # disallowed by default: both refuse
        with pytest.raises(
            ValueError, match=r"special token '<\|endoftext\|>'"
        ):  # both messages name the token
            enc.encode(text)


@settings(
    max_examples=pick(full=2000, quick=200),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(text=st.text(st.characters(codec="utf-8"), max_size=60))
def test_gpt2_ids_on_random_text(gpt2, reference, text):
    assert gpt2.encode_ordinary(text) == reference.encode_ordinary(text)
    assert gpt2.decode(gpt2.encode_ordinary(text)) == text


# ---- our trained merges, run by tiktoken ---------------------------------------------------


@pytest.fixture(scope="module", params=["gpt2", "gpt4"])
def trained(request) -> BPETokenizer:
    return train_bpe(
        load_text(), pick(full=2000, quick=600), pattern=request.param, special_tokens=[ENDOFTEXT]
    )


def test_trained_tokenizer_through_tiktoken(trained):
    enc = trained.to_tiktoken()
    story = load_text()
    assert trained.encode_ordinary(story) == enc.encode_ordinary(story)
    for text in EDGE_CASES.values():
        ids = trained.encode(text)
        assert ids == enc.encode(text), text
        assert trained.decode(ids) == enc.decode(ids) == text
    text = f"a{ENDOFTEXT}b"
    assert trained.encode(text, allowed_special="all") == enc.encode(text, allowed_special="all")


def test_saved_and_loaded_tokenizer_through_tiktoken(trained, tmp_path):
    loaded = BPETokenizer.load(trained.save(tmp_path / "tok.json"))
    enc = loaded.to_tiktoken()
    assert enc._mergeable_ranks == trained.ranks and enc._special_tokens == trained.special_tokens
    story = load_text()
    assert loaded.encode_ordinary(story) == enc.encode_ordinary(story) == trained.encode_ordinary(story)


@settings(
    max_examples=pick(full=1000, quick=100),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(text=st.text(st.characters(codec="utf-8"), max_size=60))
def test_trained_ids_on_random_text(trained, text):
    assert trained.encode_ordinary(text) == trained.to_tiktoken().encode_ordinary(text)


def test_a_chunk_that_is_a_token_is_one_token_as_in_tiktoken():
    """The whole-chunk shortcut. Merges bc, ab, cd, then abcd = ab + cd: merging by rank alone would
    join bc first (a, bc, d) and get stuck, but "abcd" is itself a token, and tiktoken returns it."""
    byte = lambda s: s.encode()[0]  # noqa: E731
    tokens = [bytes([b]) for b in range(256)] + [b"bc", b"ab", b"cd", b"abcd"]
    merges = [(byte("b"), byte("c")), (byte("a"), byte("b")), (byte("c"), byte("d")), (257, 258)]
    ours = BPETokenizer(tokens, merges, pattern="gpt2")
    reference = tiktoken.Encoding(
        name="shortcut", pat_str=ours.pattern, mergeable_ranks=dict(ours.ranks), special_tokens={}
    )
    assert reference.encode("abcd") == [259]
    assert ours.encode("abcd") == [259]
    assert (
        ours.encode("xabcd") == reference.encode("xabcd") == [byte("x"), byte("a"), 256, byte("d")]
    )  # no shortcut: stuck at bc


# ---- the fast chunk splitter ------------------------------------------------------------------

_MIXED = "\n".join(EDGE_CASES.values()) + "\nascii line\nnext\n\nx\n  \ny\ncafé\nb\n!\n?\n\x1c\x1d\nz"


@pytest.mark.parametrize("pattern_name", ["gpt2", "gpt4"])
def test_fast_splitter_gives_regex_chunks(pattern_name):
    """``FastSplitter`` (``re`` on ASCII pieces cut between lines) must give ``regex``'s exact chunks."""
    import regex

    from llmscratch.text.bpe.pattern import PATTERNS, FastSplitter, fast_splitter

    pattern = PATTERNS[pattern_name]
    slow = regex.compile(pattern)
    fast = fast_splitter(pattern, slow)
    assert isinstance(fast, FastSplitter)
    for text in [*EDGE_CASES.values(), _MIXED, _MIXED.encode("ascii", "ignore").decode(), load_text()]:
        assert fast.findall(text) == slow.findall(text)
    assert fast_splitter(r"\w+", regex.compile(r"\w+")).pattern == r"\w+"  # other patterns stay on regex


@settings(max_examples=pick(full=300, quick=60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.sampled_from(
            [
                "a",
                "Z",
                "9",
                " ",
                "  ",
                "\n",
                "\t",
                "\r\n",
                "'s",
                "'LL",
                "!",
                "é",
                "½",
                "\x1c",
                "\u00a0",
                "日",
                "🙂",
                "-",
                "x\n",
                "\ny",
            ]
        ),
        max_size=60,
    )
)
def test_fast_splitter_on_random_text(parts):
    import regex

    from llmscratch.text.bpe.pattern import PATTERNS, fast_splitter

    text = "".join(parts)
    for pattern in PATTERNS.values():
        slow = regex.compile(pattern)
        assert fast_splitter(pattern, slow).findall(text) == slow.findall(text)
