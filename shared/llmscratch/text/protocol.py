"""The one tokenizer interface: what chapters 6-7 and the chat need, whichever model family it serves.

``text.gpt2.GPT2Tokenizer`` (GPT-2's encoding) and ``text.gguf_vocab.MappedTokenizer`` (SmolLM2's,
read from its GGUF file) both offer it, so no caller branches on the family.

**The special-token policy** (one rule, kept by both):

- ``encode(text)`` treats ``text`` as *ordinary text*. A special token written in it
  (``"<|endoftext|>"``, ``"<|im_start|>"``) is encoded as its characters, never as the control id,
  and never raises. Text from a user or a data set can thus neither end a document nor open a chat
  turn, and no input crashes the encoder.
- A real special id comes only from an explicit call: ``special_id("<|im_start|>")`` (what a prompt
  template such as ``weights.smollm.encode_chat`` uses to join template ids and user text), or
  ``encode(text, allowed_special={...})`` / ``"all"`` for text *we* wrote, e.g. a corpus whose
  documents we joined with ``<|endoftext|>``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol


class TextTokenizer(Protocol):
    """``encode``/``decode`` plus the ids a caller needs to end and pad a text."""

    name: str
    eos_id: int  # ends a text (GPT-2: <|endoftext|>; SmolLM2-Instruct: <|im_end|>)
    pad_id: int  # fills batches (never attended to, never a target)
    vocab_size: int

    def encode(self, text: str, *, allowed_special: Collection[str] | str = frozenset()) -> list[int]: ...

    def special_id(self, token: str) -> int: ...

    def decode(self, ids: Sequence[int]) -> str: ...
