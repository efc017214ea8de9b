"""What chapters 1 to 6 built, re-exported from the ``llmscratch`` package.

Chapter 7 teaches a pretrained model to follow instructions. It builds the collate function by hand
and hands it over to ``llmscratch.instruct``; it trains with chapter 5's loop, picks its backbone the
way chapter 6 does, and uses chapter 6's LoRA in the exercises.
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

# Chapter 2: the special tokens
from llmscratch.constants import EOT_ID, IGNORE_INDEX

# Chapter 4: generation (token by token, with the KV cache)
from llmscratch.generate import generate, generate_stream
from llmscratch.model import count_parameters

# Chapter 5: the loss, the training loop, saving weights, the loss plot
from llmscratch.checkpoint import load_weights, save_weights
from llmscratch.losses import lm_batch_loss, loss_over_loader
from llmscratch.plotting import plot_losses
from llmscratch.train import train

# Chapter 6: the pretrained backbone and LoRA
from llmscratch.lora import apply_lora, lora_parameter_count, merge_lora
from llmscratch.pretrained import load_backbone

__all__ = [
    "cache_dir", "describe_device", "get_device", "is_offline", "is_quick", "mode_banner", "pick", "seed_everything",
    "EOT_ID", "IGNORE_INDEX",
    "generate", "generate_stream", "count_parameters",
    "load_weights", "save_weights", "lm_batch_loss", "loss_over_loader", "plot_losses", "train",
    "apply_lora", "lora_parameter_count", "merge_lora", "load_backbone",
]
