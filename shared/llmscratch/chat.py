"""Talk to a model in the terminal: ``python -m llmscratch.chat --checkpoint PATH`` (or ``--model smollm2``).

Chapter 7 saves its instruction-tuned model with ``save_chat_weights``: the weights plus what it
takes to rebuild model and tokenizer (the model family, the tokenizer, the prompt style) and a flag
saying the model was instruction-tuned. This command then

- formats each turn with the same prompt function that training used (``instruct.format_chat``,
  Alpaca style, for our fine-tuned models; SmolLM2's own ChatML template for ``--model smollm2``),
  by the special-token policy of ``pretrained.TextTokenizer``: special ids come only from the
  template, so a message that contains ``<|im_start|>`` or ``<|endoftext|>`` is just text,
- reads input that is not valid UTF-8 (undecodable bytes become U+FFFD) and refuses a bad file, a
  pickle or a device this machine lacks with one ``error: ...`` line and exit code 2,
- streams the answer token by token (``generate.generate_stream``) with a KV cache that is kept
  across turns: only the tokens that changed since the last turn are run through the model,
- keeps the conversation while it fits in the context, and says so when it drops old turns,
- ends cleanly on Ctrl-D (end of input, exit code 0) and Ctrl-C (exit code 130).

    python -m llmscratch.chat --checkpoint ~/.cache/llmscratch/checkpoints/ch07_instruct.safetensors
    python -m llmscratch.chat --model smollm2 --temperature 0.7 --top-p 0.9
"""

from __future__ import annotations

import argparse
import signal
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .chat_models import (  # re-exported: llmscratch.chat is where readers look for them
    CH07_CHECKPOINT,
    PRETRAINED,
    ChatError,
    ChatModel,
    load_chat_checkpoint,
    load_instruct_model,
    load_pretrained,
    save_chat_weights,
)
from .device import get_device
from .finetune.prompts import fit_prompt, format_chat
from .model.generate import check_sampling, generate_stream
from .weights.smollm import chat_prompt, encode_chat

__all__ = [
    "CH07_CHECKPOINT",
    "ChatError",
    "ChatModel",
    "Conversation",
    "build_parser",
    "load_chat_checkpoint",
    "load_instruct_model",
    "load_pretrained",
    "main",
    "save_chat_weights",
]


# ---------------------------------------------------------------------------------------------
# The conversation
# ---------------------------------------------------------------------------------------------


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


@dataclass
class Conversation:
    """Turns so far, the prompt for the next one, and a KV cache that outlives the turns."""

    chat: ChatModel
    max_new_tokens: int = 128
    history: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self):
        context = self.chat.model.cfg.context_length
        if not 1 <= self.max_new_tokens < context:
            raise ChatError(
                f"--max-new-tokens must be between 1 and context_length - 1 = {context - 1}, "
                f"got {self.max_new_tokens}"
            )
        self.cache = self.chat.model.new_kv_cache()
        self.cached_ids: list[int] = []  # the tokens the cache holds (not every model family records them)

    def _messages(self, history: list[tuple[str, str]], message: str) -> list[dict[str, str]]:
        turns = [
            {"role": r, "content": c}
            for user, bot in history
            for r, c in (("user", user), ("assistant", bot))
        ]
        return turns + [{"role": "user", "content": message}]

    def prompt_text(self, history: list[tuple[str, str]], message: str) -> str:
        """The next prompt as text, for reading (the model gets ``prompt_token_ids``)."""
        if self.chat.style == "alpaca":
            return format_chat(history, message)

        return chat_prompt(self._messages(history, message))

    def prompt_token_ids(self, history: list[tuple[str, str]], message: str) -> list[int]:
        """The next prompt as ids. What users wrote is ordinary text: only the template makes special ids.

        So a message containing ``"<|im_start|>"`` or ``"<|endoftext|>"`` is answered like any other
        (``text.protocol`` states the rule).
        """
        if self.chat.style == "alpaca":  # the Alpaca layout has no special token: all of it is ordinary text
            return self.chat.tokenizer.encode(format_chat(history, message))
        return encode_chat(self.chat.tokenizer, self._messages(history, message))

    def prompt_ids(self, message: str, say: Callable[[str], None]) -> list[int]:
        """The token ids of the next prompt, dropping the oldest turns until it fits (and saying so)."""
        context = self.chat.model.cfg.context_length
        ids = self.prompt_token_ids(self.history, message)
        dropped = 0
        while self.history and len(ids) + self.max_new_tokens > context:
            self.history.pop(0)
            dropped += 1
            ids = self.prompt_token_ids(self.history, message)
        if dropped:
            say(
                f"[dropped the {dropped} oldest turn(s): the conversation no longer fits in the context of "
                f"{context} tokens with room for {self.max_new_tokens} new ones]"
            )
        if len(ids) + self.max_new_tokens > context:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                kept = fit_prompt(ids, context, self.max_new_tokens)
            say(
                f"[your message is too long: only its last {len(kept)} prompt tokens fit, the first "
                f"{len(ids) - len(kept)} were cut]"
            )
            ids = kept
        return ids

    def reply(
        self,
        message: str,
        *,
        write: Callable[[str], None],
        say: Callable[[str], None],
        prefix: str = "",
        **sampling,
    ) -> str:
        """Stream the answer to ``message`` through ``write`` (after ``prefix``); return it and remember the turn."""
        tok = self.chat.tokenizer
        ids = self.prompt_ids(message, say)
        write(prefix)
        held = self.cached_ids[: len(self.cache)]
        keep = min(_common_prefix(held, ids), len(ids) - 1)  # run at least one new token
        self.cache.crop(keep)
        device = next(self.chat.model.parameters()).device
        new = torch.tensor([ids[keep:]], device=device)
        answer_ids: list[int] = []
        shown = ""
        for step in generate_stream(
            self.chat.model, new, self.max_new_tokens, eos_id=tok.eos_id, kv_cache=self.cache, **sampling
        ):
            token = int(step[0, 0])
            if token == tok.eos_id:
                break
            answer_ids.append(token)
            text = tok.decode(answer_ids)
            if not text.endswith("\ufffd"):  # wait for the rest of a multi-byte character
                write(text[len(shown) :])
                shown = text
        self.cached_ids = (ids + answer_ids)[
            : len(self.cache)
        ]  # the cache ran the prompt and every answer token
        text = tok.decode(answer_ids)
        if text != shown:  # an unfinished character at the very end
            write(text[len(shown) :])
        answer = text.strip()
        self.history.append((message, answer))
        return answer


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m llmscratch.chat", description=__doc__.split("\n\n")[0])
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--checkpoint", type=Path, help="a save_chat_weights file (chapter 7's fine-tuned model)"
    )
    which.add_argument("--model", choices=PRETRAINED, help="a stock pretrained chat model (offline)")
    p.add_argument(
        "--temperature", type=float, default=0.0, help="0 = greedy (default); higher = more varied"
    )
    p.add_argument("--top-k", type=int, default=None, help="sample only from the k most likely tokens")
    p.add_argument(
        "--top-p", type=float, default=None, help="sample from the smallest set with this probability"
    )
    p.add_argument(
        "--max-new-tokens",
        type=int,
        default=None,
        help="longest answer, in tokens (default 128, or half the context if that is shorter)",
    )
    p.add_argument("--seed", type=int, default=123, help="seed of the sampler (default 123)")
    p.add_argument("--device", default=None, help="cpu, cuda or mps (default: the best available)")
    return p


def _tolerant_streams() -> None:
    """Never crash on bytes: undecodable input becomes U+FFFD, unprintable output a ``?``.

    A strict UTF-8 terminal (or a pipe) can deliver bytes that are not UTF-8, and a model can write
    characters the terminal's encoding lacks; either would otherwise end the chat with a traceback.
    """
    for stream, errors in ((sys.stdin, "replace"), (sys.stdout, "replace"), (sys.stderr, "backslashreplace")):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors=errors)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    signal.signal(
        signal.SIGINT, signal.default_int_handler
    )  # Ctrl-C -> KeyboardInterrupt even if inherited ignored
    _tolerant_streams()
    out, err = sys.stdout, sys.stderr

    def write(text: str) -> None:
        out.write(text)
        out.flush()

    def say(text: str) -> None:
        write(text + "\n")

    try:
        try:
            check_sampling(args.temperature, args.top_k, args.top_p)
            device = get_device(args.device)  # a device this machine lacks is refused here, in one line
        except ValueError as e:
            raise ChatError(str(e)) from None
        chat = (
            load_chat_checkpoint(args.checkpoint, device=device)
            if args.checkpoint
            else load_pretrained(args.model, device=device)
        )
        max_new = args.max_new_tokens or min(128, chat.model.cfg.context_length // 2)
        conversation = Conversation(chat, max_new_tokens=max_new)
        generator = torch.Generator(device=device).manual_seed(args.seed)
        sampling = dict(temperature=args.temperature, top_k=args.top_k, top_p=args.top_p, generator=generator)
    except (ChatError, FileNotFoundError) as e:  # FileNotFoundError: --model smollm2 is not installed
        err.write(f"error: {e}\n")
        return 2
    say(
        f"Chatting with {chat.name} ({chat.style} prompts, context {chat.model.cfg.context_length} tokens). "
        "Ctrl-D or Ctrl-C to leave."
    )
    try:
        while True:
            try:
                message = input("you> ").strip()
            except EOFError:
                say("\nbye")
                return 0
            if not message:
                continue
            conversation.reply(message, write=write, say=say, prefix="bot> ", **sampling)
            write("\n")
    except KeyboardInterrupt:
        say("\ninterrupted, bye")
        return 130


if __name__ == "__main__":
    sys.exit(main())
