"""GPT-2's own merges as a ``BPETokenizer`` (``load_gpt2``), read from the checked offline files.

``text.gpt2`` finds and checks GPT-2's ``vocab.bpe``/``encoder.json`` and hands the ranks
to ``tiktoken``; this module reads the same files into our pure-Python tokenizer, so chapter 2 can
compare the two id for id.
"""

from __future__ import annotations

from ...constants import ENDOFTEXT, EOT_ID
from ..gpt2 import bytes_to_unicode, gpt2_files, load_gpt2_ranks, read_gpt2_merges
from .tokenizer import BPETokenizer


def load_gpt2() -> BPETokenizer:
    """GPT-2's tokenizer as a ``BPETokenizer``, from the offline ``vocab.bpe``/``encoder.json``.

    The same ranks ``tokenizer.gpt2_encoding()`` hands to tiktoken, plus the 50,000 merges read
    from ``vocab.bpe`` (GPT-2's single bytes are ids 0-255 but not in byte order: ``'!'`` is 0).
    """
    vocab_bpe, encoder_json = gpt2_files()
    ranks = load_gpt2_ranks(vocab_bpe, encoder_json)
    tokens = sorted(ranks, key=ranks.__getitem__)
    to_byte = {ch: b for b, ch in bytes_to_unicode().items()}
    merges = [
        tuple(ranks[bytes(to_byte[ch] for ch in side)] for side in pair)
        for pair in read_gpt2_merges(vocab_bpe)
    ]
    return BPETokenizer(tokens, merges, pattern="gpt2", special_tokens={ENDOFTEXT: EOT_ID}, name="gpt2")
