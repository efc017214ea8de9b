"""The prompt format every instruction-tuned model here shares: training, evaluation and the chat.

- ``format_prompt(entry)``: the Alpaca-style prompt (``style="phi3"`` gives the Phi-3 chat layout
  of the exercises); ``format_chat`` chains the turns of a conversation in the same format.
- ``fit_prompt``: keep the tail of a prompt that leaves room for the answer in the context.
- ``extract_response``: the model's answer, cut by *token position* after the prompt and at the
  first end-of-text, never by the prompt's string length (decoding need not give the prompt back
  character for character).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import torch

from ..constants import EOT_ID

PREAMBLE = "Below is a task, sometimes with extra input. Write a response that completes the task."
RESPONSE_MARKER = "### Response:"
STYLES = ("alpaca", "phi3")


def format_prompt(entry: dict, *, style: str = "alpaca") -> str:
    """The prompt for one entry, ending where the model's response begins.

    The Alpaca layout: a one-line preamble, ``### Instruction:``, an ``### Input:`` section only
    when the input is not empty, and ``### Response:`` followed by a newline.

    >>> print(format_prompt({"instruction": "Sort the words.", "input": "pear, fig"}))
    Below is a task, sometimes with extra input. Write a response that completes the task.
    <BLANKLINE>
    ### Instruction:
    Sort the words.
    <BLANKLINE>
    ### Input:
    pear, fig
    <BLANKLINE>
    ### Response:
    <BLANKLINE>
    >>> format_prompt({"instruction": "Say hi."}, style="phi3")
    '<|user|>\\nSay hi.<|end|>\\n<|assistant|>\\n'
    """
    instruction, inp = entry["instruction"], entry.get("input") or ""
    if style == "alpaca":
        text = f"{PREAMBLE}\n\n### Instruction:\n{instruction}"
        if inp:
            text += f"\n\n### Input:\n{inp}"
        return text + f"\n\n{RESPONSE_MARKER}\n"
    if style == "phi3":
        user = f"{instruction}\n{inp}" if inp else instruction
        return f"<|user|>\n{user}<|end|>\n<|assistant|>\n"
    raise ValueError(f"style must be one of {STYLES}, got {style!r}")


def format_chat(history: Sequence[tuple[str, str]], message: str) -> str:
    """A multi-turn prompt: earlier (user, assistant) turns, then the new user ``message``.

    Every turn uses the same instruction/response sections as ``format_prompt`` (the preamble once,
    at the top), so a model fine-tuned on single prompts sees a familiar layout; the text ends with
    the response marker, where the model's next answer begins.

    >>> format_chat([], "Hi") == format_prompt({"instruction": "Hi"})
    True
    >>> print(format_chat([("Hi", "Hello.")], "Bye").split(PREAMBLE)[1])
    <BLANKLINE>
    <BLANKLINE>
    ### Instruction:
    Hi
    <BLANKLINE>
    ### Response:
    Hello.
    <BLANKLINE>
    ### Instruction:
    Bye
    <BLANKLINE>
    ### Response:
    <BLANKLINE>
    """
    text = PREAMBLE
    for user, assistant in history:
        text += f"\n\n### Instruction:\n{user}\n\n{RESPONSE_MARKER}\n{assistant}"
    return text + f"\n\n### Instruction:\n{message}\n\n{RESPONSE_MARKER}\n"


def fit_prompt(token_ids: Sequence[int], context_length: int, max_new_tokens: int = 0) -> list[int]:
    """Keep the *last* tokens of a prompt so prompt + ``max_new_tokens`` fit in ``context_length``.

    The end of a prompt is the part that matters (the question and the response marker), so the
    beginning is dropped, with a warning saying how many tokens went.

    >>> fit_prompt([1, 2, 3], context_length=8, max_new_tokens=4)
    [1, 2, 3]
    """
    room = context_length - max_new_tokens
    if room < 1:
        raise ValueError(
            f"max_new_tokens={max_new_tokens} leaves no room for a prompt in context_length={context_length}"
        )
    ids = list(token_ids)
    if len(ids) > room:
        warnings.warn(
            f"the prompt has {len(ids)} tokens but only {room} fit (context_length={context_length} minus "
            f"max_new_tokens={max_new_tokens}): its first {len(ids) - room} tokens were dropped",
            stacklevel=2,
        )
        ids = ids[-room:]
    return ids


def extract_response(
    generated: str | Sequence[int] | torch.Tensor,
    prompt_length: int | None = None,
    *,
    decode: Callable[[list[int]], str] | None = None,
    eos_id: int | None = EOT_ID,
) -> str:
    """The response part of a generated sequence, stripped of surrounding whitespace.

    Token ids (a list or a 1-D tensor; a ``(1, T)`` tensor is accepted): the response is every token
    from position ``prompt_length`` on, up to the first ``eos_id``, decoded with ``decode``. This
    cuts by token position: slicing the decoded text at ``len(prompt)`` characters would go wrong
    whenever decoding does not give the prompt back exactly.

    Text: everything after the last response marker (``### Response:``), up to ``<|endoftext|>``.

    >>> extract_response([7, 7, 7, 1, 2, 0, 5], prompt_length=3, decode=lambda ids: " ".join(map(str, ids)), eos_id=0)
    '1 2'
    >>> extract_response("### Instruction:\\nHi\\n\\n### Response:\\nHello!<|endoftext|>junk")
    'Hello!'
    """
    if isinstance(generated, str):
        text = generated.rsplit(RESPONSE_MARKER, 1)[-1]
        return text.split("<|endoftext|>", 1)[0].strip()
    if prompt_length is None or decode is None:
        raise ValueError(
            "token ids need prompt_length (how many prompt tokens come first) and decode (ids -> text)"
        )
    ids = generated.tolist() if isinstance(generated, torch.Tensor) else list(generated)
    if ids and isinstance(ids[0], list):
        if len(ids) != 1:
            raise ValueError(
                f"extract_response takes one sequence; got a batch of {len(ids)} (call it per row)"
            )
        ids = ids[0]
    if not 0 <= prompt_length <= len(ids):
        raise ValueError(f"prompt_length={prompt_length} is outside the sequence of {len(ids)} tokens")
    response = ids[prompt_length:]
    if eos_id is not None and eos_id in response:
        response = response[: response.index(eos_id)]
    return decode(response).strip()
