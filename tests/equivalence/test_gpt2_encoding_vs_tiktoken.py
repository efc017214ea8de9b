"""Our offline GPT-2 encoding equals tiktoken's own GPT-2 construction, id for id.

The reference is built by tiktoken itself: its loader ``data_gym_to_mergeable_bpe_ranks`` reads the
same two files, and its published GPT-2 pattern ``r50k_pat_str`` (written differently from GPT-2's
original regex, which we use) splits the text. Equal ranks and equal ids on a hard edge-case suite
mean our loader and pattern are right. (``tiktoken.get_encoding("gpt2")`` itself would download.)
"""

import pytest
import tiktoken
import tiktoken.load
from tiktoken_ext.openai_public import r50k_pat_str

from llmscratch.assets import load_text
from llmscratch.constants import ENDOFTEXT, EOT_ID
from llmscratch.text.gpt2 import gpt2_encoding, gpt2_files, load_gpt2_ranks

EDGE_CASES = [
    "",
    " ",
    "   leading and trailing   ",
    "a  b   c    d",
    "\n\n\nnew\n\nlines\r\n",
    "tabs\tand\t\tspaces \t mixed",
    "I'm sure they'll say it's John's, we've, you're, I'd",
    "DON'T SHOUT'S",
    "1234567890 3.14159 1,000,000 -42",
    "Hello!!! ...what?!? (yes) [no] {maybe} <tag/> #hash @at $5 100%",
    "café naïve résumé Ångström façade",
    "日本語のテキスト、中文文本。한국어",
    "emoji 🙂👍🏽 family 👨‍👩‍👧 flags 🇩🇪",
    "mixed🙂text",
    "   \n  \t ",
    "x" * 500,
    "someunknownPlace terraces sunlit",
    f"two docs{ENDOFTEXT}joined",
]


@pytest.fixture(scope="module")
def reference():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TIKTOKEN_CACHE_DIR", "")  # tiktoken: read the local files, cache nothing
        ranks = tiktoken.load.data_gym_to_mergeable_bpe_ranks(*(str(p) for p in gpt2_files()))
    return tiktoken.Encoding(
        name="gpt2-reference", pat_str=r50k_pat_str, mergeable_ranks=ranks, special_tokens={ENDOFTEXT: EOT_ID}
    )


def test_ranks_equal_tiktokens_loader(reference):
    assert load_gpt2_ranks(*gpt2_files()) == reference._mergeable_ranks


@pytest.mark.parametrize("text", EDGE_CASES, ids=range(len(EDGE_CASES)))
def test_ids_match_on_edge_cases(reference, text):
    ours = gpt2_encoding().encode(text, allowed_special={ENDOFTEXT})
    assert ours == reference.encode(text, allowed_special={ENDOFTEXT})
    assert gpt2_encoding().decode(ours) == text


def test_invalid_surrogates_are_replaced_like_tiktoken(reference):
    text = "bad \ud800 surrogate"
    assert gpt2_encoding().encode(text) == reference.encode(text)


def test_ids_match_on_the_bundled_story(reference):
    story = load_text()
    assert gpt2_encoding().encode_ordinary(story) == reference.encode_ordinary(story)
