"""Byte-level byte-pair encoding (BPE) from scratch: train your own merges, encode, decode, save.

``text.gpt2`` only *loads* GPT-2's finished merges into ``tiktoken``; this subpackage holds
the algorithm itself, in plain Python, so you can train a vocabulary on any text. One module per
idea (as karpathy/minbpe splits it): ``merge`` (the two steps), ``pattern`` (pre-tokenization),
``tokenizer`` (encode, decode, files), ``train`` (the two trainers), ``gpt2`` (GPT-2's merges).
Every public name is importable from ``llmscratch.text.bpe`` itself:

- ``pair_counts`` / ``merge_pair``: the two small steps of BPE, with worked examples.
- ``train_naive``: the teaching trainer. After every merge it recounts every pair in the whole
  corpus, exactly like the notebook's hand-built version. Clear, and slow: each merge costs a full
  pass over the text.
- ``train_bpe``: the fast trainer. Same merges, same order (the test suite proves it), but it works
  on the *unique* pre-tokens weighted by their counts, keeps the pair counts up to date by visiting
  only the words a merge actually changes, and finds the best pair with a heap. What changed, exactly:
  (1) duplicate words are counted once with a weight; (2) pair counts are updated by the difference
  between a changed word's old and new pairs instead of being recounted; (3) an index from each pair
  to the words containing it means unchanged words are never looked at; (4) a heap with lazy deletion
  replaces the ``max`` over all pairs.
- ``BPETokenizer``: encode/decode with a trained vocabulary or with GPT-2's own (``load_gpt2()``), save
  and load as human-readable JSON, and ``to_tiktoken()`` to hand the same ranks to ``tiktoken``.

Rules shared by both trainers (and stated once here):

- Pre-tokenization: the text is split at special tokens (which are removed, so they are never
  learned), then into chunks by a regex (``pattern="gpt2"``, GPT-2's; ``"gpt4"``, the GPT-4/cl100k
  style; or your own). Merges never cross chunk boundaries. Chunks are UTF-8 encoded, so the 256
  byte values are the starting vocabulary and *any* string can be encoded.
- Tie-break: the most frequent pair wins; among equally frequent pairs, the one with the smallest
  ``(left id, right id)``. This depends only on the text, never on dict order or hash seeds, so the
  same input always gives the same merges.
- A pair whose joined bytes already form a token (two different merge paths to the same bytes) is
  skipped, so every token's bytes are unique; that is what ``tiktoken``'s ``{bytes: rank}`` needs.
- Ids: bytes are ids 0-255 (for a trained tokenizer, id = byte value), merge ``k`` creates id
  ``256 + k``, special tokens come after the learned tokens.

Encoding works like ``tiktoken`` (and so gives *exactly* its ids, including GPT-2's): split by the
regex; a chunk that is itself a token becomes that token; otherwise repeatedly join the adjacent pair
whose joined bytes have the lowest rank (id), leftmost first, until no adjacent pair is a token.
Invalid surrogates in the input are replaced by U+FFFD first, as ``tiktoken`` does.
"""

from .gpt2 import load_gpt2
from .merge import N_BYTES, merge_pair, pair_counts
from .pattern import GPT4_PATTERN, PATTERNS
from .tokenizer import FILE_FORMAT, FILE_VERSION, BPETokenizer
from .train import TrainingLog, train_bpe, train_naive

__all__ = [
    "BPETokenizer",
    "FILE_FORMAT",
    "FILE_VERSION",
    "GPT4_PATTERN",
    "N_BYTES",
    "PATTERNS",
    "TrainingLog",
    "load_gpt2",
    "merge_pair",
    "pair_counts",
    "train_bpe",
    "train_naive",
]
