"""What chapters 1 to 5 built, re-exported from the ``llmscratch`` package.

Chapter 6 fine-tunes a *pretrained* model (``load_backbone``: GPT-2 when online, SmolLM2-135M
offline) as a spam classifier, with chapter 5's training loop. Its own pieces (``spamdata``,
``classify``, ``baselines``, ``lora``) are built by hand in the notebooks and then imported from
the package directly.
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

# Chapter 5: losses, the training loop, schedules, checkpoints, pretrained weights, the Llama-style model
from llmscratch.model.llama import LlamaConfig, LlamaModel
from llmscratch.training.checkpoint import load_checkpoint, load_weights, save_checkpoint, save_weights
from llmscratch.training.history import History
from llmscratch.training.loop import train
from llmscratch.training.losses import lm_batch_loss, lm_loss, lm_loss_over_loader, loss_over_loader
from llmscratch.training.schedules import Constant, WarmupCosine
from llmscratch.weights.backbone import Backbone, load_backbone
from llmscratch.weights.smollm import load_smollm2, smollm2_available

__all__ = [
    "cache_dir", "describe_device", "get_device", "is_offline", "is_quick", "mode_banner", "pick", "seed_everything",
    "ENDOFTEXT", "EOT_ID", "GPT2_VOCAB_SIZE", "GPTEmbedding", "NextTokenDataset", "SimpleTokenizerV1",
    "SimpleTokenizerV2", "build_vocab", "create_dataloader", "gpt2_encoding", "load_text", "read_text", "split_words",
    "MultiHeadAttention",
    "GPT2_124M", "GPT2_355M", "GPT2_774M", "GPT2_1558M", "TINY", "GPTConfig", "generate", "next_token", "KVCache",
    "GELU", "FeedForward", "LayerNorm", "TransformerBlock", "GPTModel", "count_parameters", "parameter_memory_mib",
    "assert_close", "assert_same_module", "load_gpt2_state_dict", "to_gpt2_state_dict",
    "load_checkpoint", "load_weights", "save_checkpoint", "save_weights", "LlamaConfig", "LlamaModel",
    "lm_batch_loss", "lm_loss", "lm_loss_over_loader", "loss_over_loader", "Backbone", "load_backbone",
    "Constant", "WarmupCosine", "load_smollm2", "smollm2_available", "History", "train",
]
