"""Instruction fine-tuning data: the prompt format, a seeded split, a pre-tokenized dataset, collate.

The pieces, in the order chapter 7 builds them:

- ``format_prompt(entry)``: the one Alpaca-style prompt that training, evaluation and the chat all
  share (``style="phi3"`` gives the Phi-3 chat layout of the exercises); ``format_chat`` chains turns.
- ``validate_entries``: every entry has a non-empty string ``instruction``, a string ``output`` and
  an optional string ``input``; the error names the entry's index.
- ``split_instructions``: a seeded 85/5/10 train/validation/test split, stratified by ``kind`` and
  with no prompt in two splits.
- ``InstructionDataset``: prompt and response tokenized once, up front; an entry longer than
  ``max_length`` is truncated, and a warning says which.
- ``collate``: pads a batch to its longest entry, appends one end-of-text token that stays a
  target (so the model learns to stop) and sets the rest of the padding targets to
  ``IGNORE_INDEX`` (``F.cross_entropy`` skips them); optionally masks the prompt out of the loss.
- ``extract_response``: the model's answer, cut by *token position* after the prompt and at the
  first end-of-text, never by the prompt's string length (decoding need not give the prompt back
  character for character).
- ``respond`` / ``respond_all``: prompt -> fitted into the context -> ``generate`` -> ``extract_response``;
  ``respond_all`` answers ``batch_size`` prompts at a time (``batched.generate_batch``), same greedy answers.
- ``save_responses``: the test responses as JSON, written atomically.

``encode`` is any ``str -> list[int]`` that adds no special tokens (GPT-2's ``tiktoken`` encoding
does not); prompt and response are encoded separately and concatenated.
"""

from __future__ import annotations

import functools
import json
import random
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, NamedTuple, Sequence

import torch
from torch.utils.data import DataLoader, Dataset

from .constants import EOT_ID, IGNORE_INDEX
from .fileio import atomic_write

__all__ = [
    "PREAMBLE",
    "RESPONSE_MARKER",
    "Encoded",
    "InstructionDataset",
    "InstructionSplits",
    "collate",
    "create_instruction_dataloader",
    "extract_response",
    "fit_prompt",
    "format_chat",
    "format_prompt",
    "load_responses",
    "respond",
    "respond_all",
    "save_responses",
    "split_instructions",
    "validate_entries",
]

PREAMBLE = "Below is a task, sometimes with extra input. Write a response that completes the task."
RESPONSE_MARKER = "### Response:"
STYLES = ("alpaca", "phi3")


# ---------------------------------------------------------------------------------------------
# Prompt formats
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# Validation and splitting
# ---------------------------------------------------------------------------------------------

_FIELDS = {"instruction": True, "input": False, "output": True, "kind": False}  # name -> required


def validate_entries(entries: Sequence[dict]) -> list[dict[str, str]]:
    """Check every entry and return clean copies with ``input`` (default ``""``) and ``kind``.

    Raises ``ValueError`` for a missing required field or an empty instruction, ``TypeError`` for
    a value that is not a string; both name the entry's index and the field.

    >>> validate_entries([{"instruction": "Hi", "output": "Hello"}])
    [{'instruction': 'Hi', 'input': '', 'output': 'Hello', 'kind': 'unknown'}]
    """
    clean = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise TypeError(f"entry {i} must be a dict with instruction/input/output, got {type(entry).__name__}")
        for field, required in _FIELDS.items():
            if field not in entry or entry[field] is None:
                if required:
                    raise ValueError(f"entry {i} is missing the field {field!r} (has: {', '.join(sorted(entry)) or 'nothing'}); "
                                     "every entry needs 'instruction' and 'output'")
                continue
            if not isinstance(entry[field], str):
                raise TypeError(f"entry {i}: field {field!r} must be a str, got {type(entry[field]).__name__} ({entry[field]!r})")
        if not entry["instruction"].strip():
            raise ValueError(f"entry {i}: field 'instruction' is empty; write the task the model should do")
        clean.append({"instruction": entry["instruction"], "input": entry.get("input") or "",
                      "output": entry["output"], "kind": entry.get("kind") or "unknown"})
    return clean


def _prompt_key(entry: dict) -> str:
    """What makes two prompts 'the same question': instruction + input, case and spacing ignored."""
    return " ".join(f"{entry['instruction']}\n{entry.get('input') or ''}".lower().split())


@dataclass
class InstructionSplits:
    """The train / validation / test entries of ``split_instructions``."""

    train: list[dict[str, str]]
    val: list[dict[str, str]]
    test: list[dict[str, str]]

    def sizes(self) -> tuple[int, int, int]:
        return len(self.train), len(self.val), len(self.test)


def split_instructions(entries: Sequence[dict], fractions: tuple[float, float, float] = (0.85, 0.05, 0.10),
                       *, seed: int = 123) -> InstructionSplits:
    """A seeded split, stratified by ``kind`` (every kind lands in every split in proportion).

    Entries are validated first; duplicate prompts (same instruction and input, ignoring case and
    spacing) raise ``ValueError``, because one copy in train and one in test would leak the answer.

    >>> data = [{"instruction": f"Add 1 to {i}.", "output": str(i + 1)} for i in range(20)]
    >>> split_instructions(data).sizes()
    (17, 1, 2)
    """
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(f"fractions must be three non-negative numbers that sum to 1 (train, val, test), got {fractions}")
    entries = validate_entries(entries)
    first_seen: dict[str, int] = {}
    for i, entry in enumerate(entries):
        key = _prompt_key(entry)
        if key in first_seen:
            raise ValueError(f"entries {first_seen[key]} and {i} have the same prompt; remove duplicates before splitting "
                             "(a copy in train and one in test would leak the answer)")
        first_seen[key] = i
    rng = random.Random(seed)
    by_kind: dict[str, list[dict]] = {}
    for entry in entries:
        by_kind.setdefault(entry["kind"], []).append(entry)
    train, val, test = [], [], []
    for kind in sorted(by_kind):
        group = by_kind[kind]
        rng.shuffle(group)
        n_test = round(len(group) * fractions[2])
        n_val = round(len(group) * fractions[1])
        test += group[:n_test]
        val += group[n_test:n_test + n_val]
        train += group[n_test + n_val:]
    for part in (train, val, test):
        rng.shuffle(part)
    return InstructionSplits(train, val, test)


# ---------------------------------------------------------------------------------------------
# Dataset and collate
# ---------------------------------------------------------------------------------------------


class Encoded(NamedTuple):
    """One tokenized entry: prompt ids followed by response ids, and where the response starts."""

    token_ids: list[int]
    prompt_length: int


class InstructionDataset(Dataset):
    """Entries tokenized once: ``ds[i]`` is an ``Encoded(token_ids, prompt_length)``.

    ``token_ids`` holds the prompt followed by the response (no end-of-text: ``collate`` adds it).
    With ``max_length``, an entry whose prompt + response is longer is cut to its first
    ``max_length`` tokens (the end of the response goes first), and one warning lists them;
    ``truncated`` keeps their indices. A prompt that alone fills ``max_length`` leaves no response
    to learn from: the warning says so too.

    >>> ds = InstructionDataset([{"instruction": "Hi", "output": "Hello"}], encode=lambda s: [len(w) for w in s.split()])
    >>> ds[0].prompt_length, len(ds[0].token_ids)
    (20, 21)
    """

    def __init__(self, entries: Sequence[dict], encode: Callable[[str], list[int]], *,
                 max_length: int | None = None, style: str = "alpaca"):
        if max_length is not None and max_length < 2:
            raise ValueError(f"max_length must be at least 2 (a prompt token and a target), got {max_length}")
        self.entries = validate_entries(entries)
        self.max_length, self.style = max_length, style
        self.encoded: list[Encoded] = []
        self.truncated: list[int] = []
        prompt_only: list[int] = []
        for i, entry in enumerate(self.entries):
            prompt = list(encode(format_prompt(entry, style=style)))
            ids = prompt + list(encode(entry["output"]))
            if max_length is not None and len(ids) > max_length:
                self.truncated.append(i)
                if len(prompt) >= max_length:
                    prompt_only.append(i)
                ids = ids[:max_length]
            self.encoded.append(Encoded(ids, min(len(prompt), len(ids))))
        if self.truncated:
            longest = max(len(encode(format_prompt(self.entries[i], style=style)) + encode(self.entries[i]["output"]))
                          for i in self.truncated[:50])
            msg = (f"{len(self.truncated)} of {len(self.entries)} entries are longer than max_length={max_length} tokens "
                   f"(up to {longest}) and were truncated: indices {_short_list(self.truncated)}")
            if prompt_only:
                msg += (f"; in {len(prompt_only)} of them ({_short_list(prompt_only)}) the prompt alone fills max_length, "
                        "so nothing of the response is left to learn")
            warnings.warn(msg + ". Raise max_length (up to the model's context_length) or shorten those entries.", stacklevel=2)

    def __len__(self) -> int:
        return len(self.encoded)

    def __getitem__(self, index: int) -> Encoded:
        return self.encoded[index]


def _short_list(indices: list[int], limit: int = 10) -> str:
    shown = ", ".join(map(str, indices[:limit]))
    return f"[{shown}{', ...' if len(indices) > limit else ''}]"


def collate(batch: Sequence[Encoded | Sequence[int]], *, pad_id: int = EOT_ID, ignore_index: int = IGNORE_INDEX,
            allowed_max_length: int | None = None, mask_prompt: bool = False,
            device: torch.device | str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Turn a list of tokenized entries into ``(inputs, targets)``, both ``(B, T)`` long tensors.

    1. Append one ``pad_id`` (end-of-text) to every entry and pad all to the longest with more of it.
    2. ``inputs`` drop the last position, ``targets`` are the same ids shifted one to the left.
    3. In ``targets`` the *first* end-of-text of each row stays (the model must learn to stop);
       every later padding position becomes ``ignore_index``. This goes by position, so an
       end-of-text token inside a text is never mistaken for padding.
    4. With ``mask_prompt``, the targets that are prompt tokens become ``ignore_index`` too: the
       loss then only rewards the response.
    5. With ``allowed_max_length``, rows are cut to that many positions (a warning says so).
    6. Both tensors go to ``device``.

    Items are ``Encoded`` (from ``InstructionDataset``) or plain id lists (then nothing is a prompt).

    >>> x, y = collate([[1, 2, 3], [4]], pad_id=0)
    >>> x.tolist(), y.tolist()
    ([[1, 2, 3], [4, 0, 0]], [[2, 3, 0], [0, -100, -100]])
    >>> collate([Encoded([1, 2, 3], prompt_length=2)], pad_id=0, mask_prompt=True)[1].tolist()
    [[-100, 3, 0]]
    """
    if len(batch) == 0:
        raise ValueError("collate got an empty batch")
    rows = [item if isinstance(item, Encoded) else Encoded(list(item), 0) for item in batch]
    if any(len(row.token_ids) == 0 for row in rows):
        raise ValueError("an entry has no tokens; every entry needs at least one prompt or response token")
    width = max(len(row.token_ids) for row in rows) + 1  # + the end-of-text every row gets
    padded = torch.full((len(rows), width), pad_id, dtype=torch.long)
    for b, row in enumerate(rows):
        padded[b, :len(row.token_ids)] = torch.as_tensor(row.token_ids, dtype=torch.long)
    inputs, targets = padded[:, :-1].clone(), padded[:, 1:].clone()  # (B, T) each, T = width - 1
    position = torch.arange(targets.shape[1])  # (T,)
    lengths = torch.tensor([len(row.token_ids) for row in rows])  # (B,)
    # target t predicts token t+1; the row's first end-of-text is target len-1, later ones are padding
    targets[position[None, :] >= lengths[:, None]] = ignore_index
    if mask_prompt:
        prompt_lengths = torch.tensor([row.prompt_length for row in rows])  # (B,)
        targets[position[None, :] < (prompt_lengths[:, None] - 1)] = ignore_index  # target t is token t+1
    if allowed_max_length is not None and inputs.shape[1] > allowed_max_length:
        warnings.warn(f"collate: a batch is longer than allowed_max_length={allowed_max_length} tokens and was "
                      "truncated (the ends of the longest responses are cut)", stacklevel=2)
        inputs, targets = inputs[:, :allowed_max_length], targets[:, :allowed_max_length]
    if device is not None:
        inputs, targets = inputs.to(device), targets.to(device)
    return inputs, targets


def create_instruction_dataloader(dataset: InstructionDataset, *, batch_size: int = 8, shuffle: bool = False,
                                  drop_last: bool = False, seed: int = 123, num_workers: int = 0,
                                  **collate_kwargs) -> DataLoader:
    """A ``DataLoader`` over ``dataset`` with ``collate`` (``collate_kwargs``: ``device``, ``mask_prompt``, ...).

    Shuffling uses its own ``torch.Generator`` seeded with ``seed``, so batches are reproducible.
    Keep ``num_workers=0`` when ``device`` is a GPU (tensors are moved inside ``collate``).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, generator=generator,
                      num_workers=num_workers, collate_fn=functools.partial(collate, **collate_kwargs))


# ---------------------------------------------------------------------------------------------
# Generation helpers: fitting a prompt into the context, cutting the response out
# ---------------------------------------------------------------------------------------------


def fit_prompt(token_ids: Sequence[int], context_length: int, max_new_tokens: int = 0) -> list[int]:
    """Keep the *last* tokens of a prompt so prompt + ``max_new_tokens`` fit in ``context_length``.

    The end of a prompt is the part that matters (the question and the response marker), so the
    beginning is dropped, with a warning saying how many tokens went.

    >>> fit_prompt([1, 2, 3], context_length=8, max_new_tokens=4)
    [1, 2, 3]
    """
    room = context_length - max_new_tokens
    if room < 1:
        raise ValueError(f"max_new_tokens={max_new_tokens} leaves no room for a prompt in context_length={context_length}")
    ids = list(token_ids)
    if len(ids) > room:
        warnings.warn(f"the prompt has {len(ids)} tokens but only {room} fit (context_length={context_length} minus "
                      f"max_new_tokens={max_new_tokens}): its first {len(ids) - room} tokens were dropped", stacklevel=2)
        ids = ids[-room:]
    return ids


def extract_response(generated: str | Sequence[int] | torch.Tensor, prompt_length: int | None = None, *,
                     decode: Callable[[list[int]], str] | None = None, eos_id: int | None = EOT_ID) -> str:
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
        raise ValueError("token ids need prompt_length (how many prompt tokens come first) and decode (ids -> text)")
    ids = generated.tolist() if isinstance(generated, torch.Tensor) else list(generated)
    if ids and isinstance(ids[0], list):
        if len(ids) != 1:
            raise ValueError(f"extract_response takes one sequence; got a batch of {len(ids)} (call it per row)")
        ids = ids[0]
    if not 0 <= prompt_length <= len(ids):
        raise ValueError(f"prompt_length={prompt_length} is outside the sequence of {len(ids)} tokens")
    response = ids[prompt_length:]
    if eos_id is not None and eos_id in response:
        response = response[:response.index(eos_id)]
    return decode(response).strip()


def respond(model, entry: dict | str, encode: Callable[[str], list[int]], decode: Callable[[list[int]], str], *,
            max_new_tokens: int = 64, eos_id: int | None = EOT_ID, temperature: float = 0.0, top_k: int | None = None,
            top_p: float | None = None, style: str = "alpaca", generator: torch.Generator | None = None) -> str:
    """The model's answer to one entry (formatted with ``format_prompt``) or to a ready prompt string.

    The prompt is fitted into the context with ``fit_prompt`` (leaving room for ``max_new_tokens``),
    generated from with ``llmscratch.generate.generate`` (greedy by default, stopping at ``eos_id``),
    and the answer cut out by token position with ``extract_response``. Works with any model of
    the shared interface (``model.cfg.context_length``, ``model.new_kv_cache()``).
    """
    from .generate import generate

    prompt = entry if isinstance(entry, str) else format_prompt(entry, style=style)
    ids = fit_prompt(encode(prompt), model.cfg.context_length, max_new_tokens)
    out = generate(model, torch.tensor([ids]), max_new_tokens, temperature=temperature, top_k=top_k, top_p=top_p,
                   eos_id=eos_id, generator=generator)  # (1, len(ids) + n)
    return extract_response(out[0].tolist(), len(ids), decode=decode, eos_id=eos_id)


def respond_all(model, entries: Sequence[dict], encode: Callable[[str], list[int]], decode: Callable[[list[int]], str],
                *, batch_size: int = 16, seed: int | None = None, progress: bool = True, **kwargs) -> list[str]:
    """``respond`` for every entry, in order, ``batch_size`` prompts at a time (``kwargs`` go to ``respond``).

    Greedy answers are exactly ``[respond(model, e, ...) for e in entries]`` (the tests check it),
    only faster: prompts of similar length run together through ``batched.generate_batch``. With
    sampling, ``seed`` gives entry ``i`` its own generator seeded ``seed + i`` (reproducible, and
    independent of ``batch_size``). A shared ``generator`` (one stream of random numbers used
    entry after entry) keeps the one-by-one loop, as does ``batch_size=1``.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    if batch_size == 1 or kwargs.get("generator") is not None:
        # plain tqdm: tqdm.auto warns in notebooks without ipywidgets
        from tqdm import tqdm

        return [respond(model, entry, encode, decode, **kwargs)
                for entry in tqdm(entries, desc="responses", disable=not progress, leave=False)]
    from .batched import generate_batch

    max_new_tokens, eos_id, style = kwargs.pop("max_new_tokens", 64), kwargs.pop("eos_id", EOT_ID), kwargs.pop("style", "alpaca")
    kwargs.pop("generator", None)
    unknown = set(kwargs) - {"temperature", "top_k", "top_p"}
    if unknown:
        raise TypeError(f"respond_all got unexpected keyword argument(s) {sorted(unknown)}")
    prompts = [fit_prompt(encode(entry if isinstance(entry, str) else format_prompt(entry, style=style)),
                          model.cfg.context_length, max_new_tokens) for entry in entries]
    new = generate_batch(model, prompts, max_new_tokens, batch_size=batch_size, eos_id=eos_id, seed=seed,
                         progress=progress, **kwargs)
    return [extract_response(p + n, len(p), decode=decode, eos_id=eos_id) for p, n in zip(prompts, new)]


# ---------------------------------------------------------------------------------------------
# Saving responses
# ---------------------------------------------------------------------------------------------


def save_responses(path: str | Path, entries: Sequence[dict], responses: Sequence[str], *,
                   key: str = "response") -> Path:
    """Write ``entries`` with each model response under ``key`` as a JSON list (atomic write).

    Several runs can share a file: save "before" under ``key="response_before"`` and "after" under
    ``key="response_after"`` by passing entries loaded from the first save.
    """
    if len(entries) != len(responses):
        raise ValueError(f"got {len(entries)} entries but {len(responses)} responses; they must pair up one to one")
    if key in ("instruction", "input", "output", "kind"):
        raise ValueError(f"key={key!r} would overwrite an entry field; use e.g. 'response' or 'response_after'")
    records = [{**entry, key: response} for entry, response in zip(entries, responses)]
    with atomic_write(path, "w", encoding="utf-8") as f:
        json.dump(records, f, ensure_ascii=False, indent=1)
        f.write("\n")
    return Path(path)


def load_responses(path: str | Path) -> list[dict]:
    """Read a file written by ``save_responses``."""
    return json.loads(Path(path).read_text(encoding="utf-8"))
