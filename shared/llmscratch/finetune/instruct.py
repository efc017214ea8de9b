"""Instruction fine-tuning: a pre-tokenized dataset, collate, and the model's responses to the test set.

The pieces, in the order chapter 7 builds them:

- ``format_prompt(entry)`` (in ``prompts``): the one prompt format training, evaluation and the
  chat share.
- ``validate_entries``, ``split_instructions`` (in ``instruct_data``): checked entries, a seeded split.
- ``InstructionDataset``: prompt and response tokenized once, up front; an entry longer than
  ``max_length`` is truncated, and a warning says which.
- ``collate``: pads a batch to its longest entry, appends one end-of-text token that stays a
  target (so the model learns to stop) and sets the rest of the padding targets to
  ``IGNORE_INDEX`` (``F.cross_entropy`` skips them); optionally masks the prompt out of the loss.
- ``respond`` / ``respond_all``: prompt -> fitted into the context -> ``generate`` -> ``prompts.extract_response``;
  ``respond_all`` answers ``batch_size`` prompts at a time (``model.batched.generate_batch``), same greedy answers.
- ``save_responses``: the test responses as JSON, written atomically.

``encode`` is any ``str -> list[int]`` that adds no special tokens (GPT-2's ``tiktoken`` encoding
does not); prompt and response are encoded separately and concatenated.
"""

from __future__ import annotations

import functools
import json
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

import torch
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm  # plain tqdm: tqdm.auto warns in notebooks without ipywidgets

from ..constants import EOT_ID, IGNORE_INDEX
from ..fileio import atomic_write
from ..model.batched import generate_batch
from ..model.generate import generate
from .instruct_data import validate_entries
from .prompts import extract_response, fit_prompt, format_prompt

__all__ = [
    "Encoded",
    "InstructionDataset",
    "collate",
    "create_instruction_dataloader",
    "load_responses",
    "respond",
    "respond_all",
    "save_responses",
]


# ---------------------------------------------------------------------------------------------
# Prompt formats
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# Validation and splitting
# ---------------------------------------------------------------------------------------------


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

    def __init__(
        self,
        entries: Sequence[dict],
        encode: Callable[[str], list[int]],
        *,
        max_length: int | None = None,
        style: str = "alpaca",
    ):
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
            longest = max(
                len(encode(format_prompt(self.entries[i], style=style)) + encode(self.entries[i]["output"]))
                for i in self.truncated[:50]
            )
            msg = (
                f"{len(self.truncated)} of {len(self.entries)} entries are longer than max_length={max_length} tokens "
                f"(up to {longest}) and were truncated: indices {_short_list(self.truncated)}"
            )
            if prompt_only:
                msg += (
                    f"; in {len(prompt_only)} of them ({_short_list(prompt_only)}) the prompt alone fills max_length, "
                    "so nothing of the response is left to learn"
                )
            warnings.warn(
                msg + ". Raise max_length (up to the model's context_length) or shorten those entries.",
                stacklevel=2,
            )

    def __len__(self) -> int:
        return len(self.encoded)

    def __getitem__(self, index: int) -> Encoded:
        return self.encoded[index]


def _short_list(indices: list[int], limit: int = 10) -> str:
    shown = ", ".join(map(str, indices[:limit]))
    return f"[{shown}{', ...' if len(indices) > limit else ''}]"


def collate(
    batch: Sequence[Encoded | Sequence[int]],
    *,
    pad_id: int = EOT_ID,
    ignore_index: int = IGNORE_INDEX,
    allowed_max_length: int | None = None,
    mask_prompt: bool = False,
    device: torch.device | str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
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
        padded[b, : len(row.token_ids)] = torch.as_tensor(row.token_ids, dtype=torch.long)
    inputs, targets = padded[:, :-1].clone(), padded[:, 1:].clone()  # (B, T) each, T = width - 1
    position = torch.arange(targets.shape[1])  # (T,)
    lengths = torch.tensor([len(row.token_ids) for row in rows])  # (B,)
    # target t predicts token t+1; the row's first end-of-text is target len-1, later ones are padding
    targets[position[None, :] >= lengths[:, None]] = ignore_index
    if mask_prompt:
        prompt_lengths = torch.tensor([row.prompt_length for row in rows])  # (B,)
        targets[position[None, :] < (prompt_lengths[:, None] - 1)] = ignore_index  # target t is token t+1
    if allowed_max_length is not None and inputs.shape[1] > allowed_max_length:
        warnings.warn(
            f"collate: a batch is longer than allowed_max_length={allowed_max_length} tokens and was "
            "truncated (the ends of the longest responses are cut)",
            stacklevel=2,
        )
        inputs, targets = inputs[:, :allowed_max_length], targets[:, :allowed_max_length]
    if device is not None:
        inputs, targets = inputs.to(device), targets.to(device)
    return inputs, targets


def create_instruction_dataloader(
    dataset: InstructionDataset,
    *,
    batch_size: int = 8,
    shuffle: bool = False,
    drop_last: bool = False,
    seed: int = 123,
    num_workers: int = 0,
    **collate_kwargs,
) -> DataLoader:
    """A ``DataLoader`` over ``dataset`` with ``collate`` (``collate_kwargs``: ``device``, ``mask_prompt``, ...).

    Shuffling uses its own ``torch.Generator`` seeded with ``seed``, so batches are reproducible.
    Keep ``num_workers=0`` when ``device`` is a GPU (tensors are moved inside ``collate``).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        drop_last=drop_last,
        generator=generator,
        num_workers=num_workers,
        collate_fn=functools.partial(collate, **collate_kwargs),
    )


# ---------------------------------------------------------------------------------------------
# Generation helpers: fitting a prompt into the context, cutting the response out
# ---------------------------------------------------------------------------------------------


def respond(
    model,
    entry: dict | str,
    encode: Callable[[str], list[int]],
    decode: Callable[[list[int]], str],
    *,
    max_new_tokens: int = 64,
    eos_id: int | None = EOT_ID,
    temperature: float = 0.0,
    top_k: int | None = None,
    top_p: float | None = None,
    style: str = "alpaca",
    generator: torch.Generator | None = None,
) -> str:
    """The model's answer to one entry (formatted with ``format_prompt``) or to a ready prompt string.

    The prompt is fitted into the context with ``fit_prompt`` (leaving room for ``max_new_tokens``),
    generated from with ``llmscratch.model.generate.generate`` (greedy by default, stopping at ``eos_id``),
    and the answer cut out by token position with ``extract_response``. Works with any model of
    the shared interface (``model.cfg.context_length``, ``model.new_kv_cache()``).
    """
    prompt = entry if isinstance(entry, str) else format_prompt(entry, style=style)
    ids = fit_prompt(encode(prompt), model.cfg.context_length, max_new_tokens)
    out = generate(
        model,
        torch.tensor([ids]),
        max_new_tokens,
        temperature=temperature,
        top_k=top_k,
        top_p=top_p,
        eos_id=eos_id,
        generator=generator,
    )  # (1, len(ids) + n)
    return extract_response(out[0].tolist(), len(ids), decode=decode, eos_id=eos_id)


def respond_all(
    model,
    entries: Sequence[dict],
    encode: Callable[[str], list[int]],
    decode: Callable[[list[int]], str],
    *,
    batch_size: int = 16,
    seed: int | None = None,
    progress: bool = True,
    **kwargs,
) -> list[str]:
    """``respond`` for every entry, in order, ``batch_size`` prompts at a time (``kwargs`` go to ``respond``).

    Greedy answers are exactly ``[respond(model, e, ...) for e in entries]`` (the tests check it),
    only faster: prompts of similar length run together through ``model.batched.generate_batch``. With
    sampling, ``seed`` gives entry ``i`` its own generator seeded ``seed + i`` (reproducible, and
    independent of ``batch_size``). A shared ``generator`` (one stream of random numbers used
    entry after entry) keeps the one-by-one loop, as does ``batch_size=1``.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    if batch_size == 1 or kwargs.get("generator") is not None:
        return [
            respond(model, entry, encode, decode, **kwargs)
            for entry in tqdm(entries, desc="responses", disable=not progress, leave=False)
        ]
    max_new_tokens, eos_id, style = (
        kwargs.pop("max_new_tokens", 64),
        kwargs.pop("eos_id", EOT_ID),
        kwargs.pop("style", "alpaca"),
    )
    kwargs.pop("generator", None)
    unknown = set(kwargs) - {"temperature", "top_k", "top_p"}
    if unknown:
        raise TypeError(f"respond_all got unexpected keyword argument(s) {sorted(unknown)}")
    prompts = [
        fit_prompt(
            encode(entry if isinstance(entry, str) else format_prompt(entry, style=style)),
            model.cfg.context_length,
            max_new_tokens,
        )
        for entry in entries
    ]
    new = generate_batch(
        model,
        prompts,
        max_new_tokens,
        batch_size=batch_size,
        eos_id=eos_id,
        seed=seed,
        progress=progress,
        **kwargs,
    )
    return [extract_response(p + n, len(p), decode=decode, eos_id=eos_id) for p, n in zip(prompts, new)]


# ---------------------------------------------------------------------------------------------
# Saving responses
# ---------------------------------------------------------------------------------------------


def save_responses(
    path: str | Path, entries: Sequence[dict], responses: Sequence[str], *, key: str = "response"
) -> Path:
    """Write ``entries`` with each model response under ``key`` as a JSON list (atomic write).

    Several runs can share a file: save "before" under ``key="response_before"`` and "after" under
    ``key="response_after"`` by passing entries loaded from the first save.
    """
    if len(entries) != len(responses):
        raise ValueError(
            f"got {len(entries)} entries but {len(responses)} responses; they must pair up one to one"
        )
    if key in ("instruction", "input", "output", "kind"):
        raise ValueError(
            f"key={key!r} would overwrite an entry field; use e.g. 'response' or 'response_after'"
        )
    records = [{**entry, key: response} for entry, response in zip(entries, responses)]
    with atomic_write(path, "w", encoding="utf-8") as f:
        json.dump(records, f, ensure_ascii=False, indent=1)
        f.write("\n")
    return Path(path)


def load_responses(path: str | Path) -> list[dict]:
    """Read a file written by ``save_responses``."""
    return json.loads(Path(path).read_text(encoding="utf-8"))
