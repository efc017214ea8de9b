"""The models the chat talks to: saving an instruction-tuned model, and loading it (or a stock one) back.

``save_chat_weights`` stores the weights with what it takes to rebuild model and tokenizer (the
model family, the tokenizer, the prompt style) and a flag saying the model was instruction-tuned;
``load_chat_checkpoint`` rebuilds them, with one clear ``ChatError`` for a file it cannot use;
``load_pretrained`` gives SmolLM2-135M-Instruct offline; ``load_instruct_model`` is chapter 7's tuned
model if the cache holds it, else that stock model (the DPO and GRPO notebooks start from it).
``llmscratch.chat`` (the terminal chat) re-exports all of them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from .model.config import GPTConfig
from .model.gpt import GPTModel
from .model.llama import LlamaConfig, LlamaModel
from .settings import cache_dir
from .text.gguf_vocab import tokenizer_from_gguf
from .text.gpt2 import GPT2Tokenizer
from .training.checkpoint import load_weights, save_weights
from .training.safe_files import CheckpointError, read_safetensors
from .weights.backbone import load_backbone
from .weights.gguf import read_gguf
from .weights.smollm import smollm2_gguf_path

INSTRUCT_FLAG = "instruction_tuned"
FAMILIES = ("gpt", "llama")
TOKENIZERS = ("gpt2", "smollm2")
STYLES = ("alpaca", "chatml")
PRETRAINED = ("smollm2",)
CH07_CHECKPOINT = Path("checkpoints") / "ch07_instruct.safetensors"  # under cache_dir(); chapter 7 saves it


class ChatError(RuntimeError):
    """A checkpoint or an option the chat cannot use; the message says what to do instead."""


def _family(model: nn.Module) -> str:
    model = getattr(model, "module", model)
    if isinstance(model, GPTModel):
        return "gpt"
    if type(model) is LlamaModel:  # not its subclasses (Qwen3, Gemma 3, MoE, MLA): their blocks differ
        return "llama"
    raise ChatError(f"the chat can rebuild a GPTModel or a LlamaModel, got {type(model).__name__}")


def save_chat_weights(path: str | Path, model: nn.Module, *, tokenizer: str, style: str = "alpaca") -> Path:
    """Save an instruction-tuned ``model`` so ``python -m llmscratch.chat --checkpoint path`` can talk to it.

    ``tokenizer`` names the tokenizer the model was trained with (``"gpt2"`` or ``"smollm2"``);
    ``style`` is the prompt layout it was fine-tuned on (``"alpaca"``: ``instruct.format_prompt``).
    """
    if tokenizer not in TOKENIZERS:
        raise ValueError(f"tokenizer must be one of {TOKENIZERS}, got {tokenizer!r}")
    if style not in STYLES:
        raise ValueError(f"style must be one of {STYLES}, got {style!r}")
    meta = {INSTRUCT_FLAG: "true", "family": _family(model), "tokenizer": tokenizer, "prompt_style": style}
    return save_weights(path, model, metadata=meta)


def load_tokenizer(name: str):
    """The tokenizer called ``name`` in a chat checkpoint (see ``TOKENIZERS``)."""
    if name == "gpt2":
        return GPT2Tokenizer()
    if name == "smollm2":
        with read_gguf(smollm2_gguf_path()) as gguf:
            return tokenizer_from_gguf(gguf)
    raise ChatError(f"unknown tokenizer {name!r} in the checkpoint; expected one of {TOKENIZERS}")


def _build_model(family: str, config: dict) -> nn.Module:
    if family == "gpt":
        return GPTModel(GPTConfig(**config))

    return LlamaModel(LlamaConfig(**config))


@dataclass
class ChatModel:
    model: nn.Module
    tokenizer: object
    style: str  # "alpaca" (format_chat) or "chatml" (smollm.chat_prompt)
    name: str


def load_chat_checkpoint(path: str | Path, *, device: torch.device | str = "cpu") -> ChatModel:
    """Rebuild the model and tokenizer of a ``save_chat_weights`` file, with clear errors for anything else."""
    path = Path(path)
    if not path.is_file():
        raise ChatError(
            f"--checkpoint {path}: no such file (chapter 7's notebook writes one with save_chat_weights)"
        )
    try:
        _, meta = read_safetensors(path)
    except CheckpointError as err:  # a pickle, a truncated or a damaged file: the message names which
        raise ChatError(f"--checkpoint {err}") from None
    except OSError as err:
        raise ChatError(f"--checkpoint {path}: cannot be read ({err})") from None
    if meta.get(INSTRUCT_FLAG) != "true":
        raise ChatError(
            f"--checkpoint {path} is not an instruction-tuned model (its metadata has no {INSTRUCT_FLAG!r} flag). "
            "A pretrained or classification checkpoint does not follow prompts: fine-tune it as in chapter 7 and save "
            "it with llmscratch.chat.save_chat_weights, or talk to the stock model with --model smollm2"
        )
    family, tok_name, style = meta.get("family"), meta.get("tokenizer"), meta.get("prompt_style", "alpaca")
    if family not in FAMILIES or tok_name not in TOKENIZERS or style not in STYLES:
        raise ChatError(
            f"--checkpoint {path}: unknown family/tokenizer/prompt_style {family!r}/{tok_name!r}/{style!r}; "
            f"expected one of {FAMILIES} / {TOKENIZERS} / {STYLES}"
        )
    try:
        config = json.loads(meta.get("config") or "null")
        model = _build_model(family, config)
    except (TypeError, ValueError) as err:
        raise ChatError(
            f"--checkpoint {path}: its stored configuration cannot build a {family} model ({err})"
        ) from None
    tokenizer = load_tokenizer(tok_name)
    vocab = getattr(tokenizer, "vocab_size", None) or (50257 if tok_name == "gpt2" else None)
    if vocab is not None and model.cfg.vocab_size < vocab:
        raise ChatError(
            f"--checkpoint {path}: configuration mismatch, vocab_size={model.cfg.vocab_size} is smaller "
            f"than the {tok_name} tokenizer's {vocab} tokens; the checkpoint comes from another configuration"
        )
    try:
        load_weights(path, model)
    except CheckpointError as err:
        raise ChatError(
            f"--checkpoint {path}: the weights do not match the configuration stored with them, "
            f"so it comes from another configuration: {err}"
        ) from None
    return ChatModel(model.to(device).eval(), tokenizer, style, f"{family} model from {path.name}")


def load_pretrained(name: str, *, device: torch.device | str = "cpu") -> ChatModel:
    """A stock pretrained chat model by name (``"smollm2"``: SmolLM2-135M-Instruct, offline)."""
    if name not in PRETRAINED:
        raise ChatError(f"--model must be one of {PRETRAINED}, got {name!r}")

    backbone = load_backbone(sources=(name,), device=device, verbose=False)
    return ChatModel(backbone.model.eval(), backbone.tokenizer, "chatml", backbone.name)


def load_instruct_model(*, device: torch.device | str = "cpu", verbose: bool = True) -> ChatModel:
    """Chapter 7's tuned model (``cache_dir() / CH07_CHECKPOINT``) if saved, else SmolLM2-135M-Instruct as shipped.

    The bonus notebooks (DPO, GRPO) start from it. With ``verbose`` one line says which model it is.
    """
    path = cache_dir() / CH07_CHECKPOINT
    if path.is_file():
        chat = load_chat_checkpoint(path, device=device)
        chat.name = f"chapter 7's instruction-tuned model ({chat.name})"
    else:
        chat = load_pretrained("smollm2", device=device)
        chat.name = (
            f"{chat.name} as shipped, already instruction-tuned by its makers "
            f"(no {path.name} in the cache: run chapter 7 to tune it on our tasks first)"
        )
    if verbose:
        print("Model:", chat.name)
    return chat
