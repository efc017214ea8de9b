"""What chapters 1 to 3 built, re-exported from the ``llmscratch`` package.

Chapter 4 builds the rest of the GPT (layer norm, GELU, feed-forward, transformer block, model,
generation) by hand and then hands each piece over to the package.
No code lives here: ``tests/notebooks`` checks that this file only re-exports.
"""

import sys
from pathlib import Path

# The package in this clone comes first (so your edits count); an installed copy is the fallback
# (e.g. on Colab after `pip install`).
_SHARED = Path(__file__).resolve().parent.parent / "shared"
if _SHARED.is_dir() and str(_SHARED) not in sys.path:
    sys.path.insert(0, str(_SHARED))

# Chapter 1: the toolbox (quick mode, cache folder, seeding, device)
from llmscratch.device import describe_device, get_device
from llmscratch.settings import cache_dir, is_offline, is_quick, mode_banner, pick, seed_everything

# Chapter 2: text, tokenizers, the sliding-window data loader, input embeddings
from llmscratch.assets import load_text, read_text
from llmscratch.constants import ENDOFTEXT, EOT_ID, GPT2_VOCAB_SIZE
from llmscratch.model.embeddings import GPTEmbedding
from llmscratch.text.dataset import NextTokenDataset, create_dataloader
from llmscratch.text.gpt2 import gpt2_encoding
from llmscratch.text.words import SimpleTokenizerV1, SimpleTokenizerV2, build_vocab, split_words

# Chapter 3: causal multi-head attention
from llmscratch.model.attention import MultiHeadAttention

__all__ = [
    "cache_dir", "describe_device", "get_device", "is_offline", "is_quick", "mode_banner", "pick", "seed_everything",
    "ENDOFTEXT", "EOT_ID", "GPT2_VOCAB_SIZE", "GPTEmbedding", "NextTokenDataset", "SimpleTokenizerV1",
    "SimpleTokenizerV2", "build_vocab", "create_dataloader", "gpt2_encoding", "load_text", "read_text", "split_words",
    "MultiHeadAttention",
]
