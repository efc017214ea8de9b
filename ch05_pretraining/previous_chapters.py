"""What chapters 1 to 4 built, re-exported from the ``llmscratch`` package.

Chapter 5 trains the GPT of chapter 4: it builds the loss, the training loop and the decoding
strategies by hand and then hands each over to the package (``losses``, ``train``, ``generate``).
Its bonus notebook ``ch05_from_gpt_to_llama`` turns the GPT into a Llama-style model that loads a
real pretrained LLM (SmolLM2) offline.
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

# Chapter 4: the GPT model, its configs, generation, the KV cache and GPT-2's weight layout
from llmscratch.model.block import GELU, FeedForward, LayerNorm, TransformerBlock
from llmscratch.model.config import GPT2_124M, GPT2_355M, GPT2_774M, GPT2_1558M, TINY, GPTConfig
from llmscratch.model.generate import generate, next_token
from llmscratch.model.gpt import GPTModel, count_parameters, parameter_memory_mib
from llmscratch.model.kv_cache import KVCache
from llmscratch.testing import assert_close, assert_same_module
from llmscratch.weights.gpt2 import load_gpt2_state_dict, to_gpt2_state_dict

__all__ = [
    "cache_dir", "describe_device", "get_device", "is_offline", "is_quick", "mode_banner", "pick", "seed_everything",
    "ENDOFTEXT", "EOT_ID", "GPT2_VOCAB_SIZE", "GPTEmbedding", "NextTokenDataset", "SimpleTokenizerV1",
    "SimpleTokenizerV2", "build_vocab", "create_dataloader", "gpt2_encoding", "load_text", "read_text", "split_words",
    "MultiHeadAttention",
    "GPT2_124M", "GPT2_355M", "GPT2_774M", "GPT2_1558M", "TINY", "GPTConfig", "generate", "next_token", "KVCache",
    "GELU", "FeedForward", "LayerNorm", "TransformerBlock", "GPTModel", "count_parameters", "parameter_memory_mib",
    "assert_close", "assert_same_module", "load_gpt2_state_dict", "to_gpt2_state_dict",
]
