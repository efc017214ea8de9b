"""The one tokenizer interface: what chapters 6-7 and the chat need, whichever model family it serves.

``text.gpt2.GPT2Tokenizer`` (GPT-2's encoding) and ``text.gguf_vocab.MappedTokenizer`` (SmolLM2's,
read from its GGUF file) both offer it, so no caller branches on the family.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class TextTokenizer(Protocol):
    """``encode``/``decode`` plus the ids a caller needs to end and pad a text."""

    name: str
    eos_id: int  # ends a text (GPT-2: <|endoftext|>; SmolLM2-Instruct: <|im_end|>)
    pad_id: int  # fills batches (never attended to, never a target)
    vocab_size: int

    def encode(self, text: str) -> list[int]: ...

    def decode(self, ids: Sequence[int]) -> str: ...
