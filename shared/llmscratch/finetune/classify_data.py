"""Chapter 6's labelled messages as model input: balanced, split, tokenized, padded into batches.

- ``balance_by_undersampling``: as many messages of each class as the rarest one has (seeded).
- ``split_dataset``: a seeded 70/10/20 train/validation/test split (``Splits`` of ``LabelledTexts``).
- ``ClassificationDataset``: tokenizes with any ``encode`` function and truncates over-long
  messages *and says so*.
- ``pad_batch`` / ``classification_loader``: pad each batch to its longest message with the
  model's padding id and return ``ClassBatch(token_ids, attention_mask, labels)``.

The model side (head, pooling, loss, accuracy) is ``classify``.
"""

from __future__ import annotations

import numbers
import random
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch.utils.data import DataLoader, Dataset


def _check_pairs(texts: Sequence[str], labels: Sequence[int]) -> None:
    if len(texts) != len(labels):
        raise ValueError(
            f"texts and labels must have the same length, got {len(texts)} texts and {len(labels)} labels"
        )


def balance_by_undersampling(
    texts: Sequence[str], labels: Sequence[int], *, seed: int = 123
) -> tuple[list[str], list[int]]:
    """Keep every message of the rarest class and as many (chosen at random) of each other class.

    The kept messages stay in their original order.

    >>> balance_by_undersampling(["a", "b", "c", "d", "e"], [0, 0, 0, 1, 1])[1]
    [0, 0, 1, 1]
    """
    _check_pairs(texts, labels)
    by_class: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        by_class.setdefault(int(label), []).append(i)
    if not by_class:
        raise ValueError("no messages to balance")
    n = min(len(idx) for idx in by_class.values())
    rng = random.Random(seed)
    keep = sorted(i for label in sorted(by_class) for i in rng.sample(by_class[label], n))
    return [texts[i] for i in keep], [int(labels[i]) for i in keep]


@dataclass
class LabelledTexts:
    """Messages with their class ids (one split of a data set)."""

    texts: list[str]
    labels: list[int]

    def __len__(self) -> int:
        return len(self.texts)


@dataclass
class Splits:
    """The train / validation / test parts of a data set."""

    train: LabelledTexts
    val: LabelledTexts
    test: LabelledTexts

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train), "val": len(self.val), "test": len(self.test)}


def split_dataset(
    texts: Sequence[str],
    labels: Sequence[int],
    *,
    fractions: tuple[float, float, float] = (0.7, 0.1, 0.2),
    seed: int = 123,
) -> Splits:
    """Shuffle with ``seed`` and cut into train / validation / test (70/10/20 by default).

    Train gets ``int(0.7 n)`` messages, validation ``int(0.1 n)`` and test the rest.

    >>> split_dataset([str(i) for i in range(10)], [0, 1] * 5).sizes()
    {'train': 7, 'val': 1, 'test': 2}
    """
    _check_pairs(texts, labels)
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1.0) > 1e-9:
        raise ValueError(f"fractions must be three non-negative numbers that sum to 1, got {fractions}")
    order = list(range(len(texts)))
    random.Random(seed).shuffle(order)
    n_train, n_val = int(fractions[0] * len(order)), int(fractions[1] * len(order))
    parts = order[:n_train], order[n_train : n_train + n_val], order[n_train + n_val :]
    return Splits(*(LabelledTexts([texts[i] for i in p], [int(labels[i]) for i in p]) for p in parts))


class ClassificationDataset(Dataset):
    """Tokenized messages and their class ids; item ``i`` is ``(token_ids list, label)``.

    ``encode`` is any ``str -> list[int]`` (e.g. ``tokenizer.encode``). Messages longer than
    ``max_length`` tokens (use the model's ``context_length``) keep their first ``max_length``
    tokens; the dataset warns how many were cut and keeps the count in ``n_truncated``.
    Raises ``ValueError`` for an empty message or a label outside ``range(num_classes)``, naming
    the message's index.
    """

    def __init__(
        self,
        texts: Sequence[str],
        labels: Sequence[int],
        encode: Callable[[str], list[int]],
        *,
        max_length: int | None = None,
        num_classes: int = 2,
    ):
        _check_pairs(texts, labels)
        if max_length is not None and max_length < 1:
            raise ValueError(f"max_length must be at least 1 (or None for no limit), got {max_length}")
        self.encoded: list[list[int]] = []
        self.labels: list[int] = []
        self.n_truncated = 0
        for i, (text, label) in enumerate(zip(texts, labels)):
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"message {i} is empty ({text!r}); remove it or give it some text")
            if (
                isinstance(label, bool)
                or not isinstance(label, numbers.Integral)
                or not 0 <= label < num_classes
            ):
                raise ValueError(
                    f"message {i} has label {label!r}, outside the expected set {list(range(num_classes))} (num_classes={num_classes})"
                )
            ids = list(encode(text))
            if not ids:
                raise ValueError(f"message {i} ({text!r}) encodes to no tokens")
            if max_length is not None and len(ids) > max_length:
                ids = ids[:max_length]
                self.n_truncated += 1
            self.encoded.append(ids)
            self.labels.append(int(label))
        self.max_length = max_length
        if self.n_truncated:
            warnings.warn(
                f"{self.n_truncated} of {len(self.encoded)} messages are longer than max_length={max_length} tokens "
                f"and were truncated to their first {max_length} tokens",
                stacklevel=2,
            )

    @property
    def longest(self) -> int:
        """Tokens in the longest (possibly truncated) message."""
        return max((len(ids) for ids in self.encoded), default=0)

    def __len__(self) -> int:
        return len(self.encoded)

    def __getitem__(self, index: int) -> tuple[list[int], int]:
        return self.encoded[index], self.labels[index]


class ClassBatch(NamedTuple):
    """One padded batch. A tuple, so generic code can move it with ``[t.to(device) for t in batch]``."""

    token_ids: torch.Tensor  # (B, T) long, padded with the model's padding id
    attention_mask: torch.Tensor  # (B, T) long, 1 = real token, 0 = padding
    labels: torch.Tensor  # (B,) long


def pad_batch(
    sequences: Sequence[Sequence[int]], pad_id: int, *, padding_side: str = "right", pad_to: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad token-id lists to the longest one (or to ``pad_to``); return ``(token_ids, attention_mask)``.

    >>> ids, mask = pad_batch([[5, 6, 7], [8]], pad_id=0, padding_side="left")
    >>> ids.tolist(), mask.tolist()
    ([[5, 6, 7], [0, 0, 8]], [[1, 1, 1], [0, 0, 1]])
    """
    if padding_side not in ("right", "left"):
        raise ValueError(f"padding_side must be 'right' or 'left', got {padding_side!r}")
    longest = max(len(s) for s in sequences)
    width = longest if pad_to is None else pad_to
    if width < longest:
        raise ValueError(
            f"pad_to={pad_to} is shorter than the longest sequence in the batch ({longest} tokens)"
        )
    token_ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, seq in enumerate(sequences):
        cols = slice(0, len(seq)) if padding_side == "right" else slice(width - len(seq), width)
        token_ids[row, cols] = torch.as_tensor(list(seq), dtype=torch.long)
        mask[row, cols] = 1
    return token_ids, mask


def classification_loader(
    dataset: ClassificationDataset,
    *,
    pad_id: int,
    batch_size: int = 8,
    shuffle: bool = False,
    drop_last: bool = False,
    padding_side: str = "right",
    pad_to: int | None = None,
    seed: int = 123,
    num_workers: int = 0,
) -> DataLoader:
    """A ``DataLoader`` of ``ClassBatch``es, each padded with ``pad_id`` to its longest message.

    ``pad_to`` pads every batch to a fixed width instead (e.g. the model's ``context_length``);
    ``shuffle`` uses its own generator seeded with ``seed``, so the order is reproducible.
    """
    if pad_to is not None and dataset.longest > pad_to:
        raise ValueError(
            f"pad_to={pad_to} is shorter than the dataset's longest message ({dataset.longest} tokens); build the dataset with max_length={pad_to}"
        )

    def collate(items: list[tuple[list[int], int]]) -> ClassBatch:
        token_ids, mask = pad_batch(
            [ids for ids, _ in items], pad_id, padding_side=padding_side, pad_to=pad_to
        )
        return ClassBatch(token_ids, mask, torch.tensor([label for _, label in items], dtype=torch.long))

    generator = torch.Generator().manual_seed(seed) if shuffle else None
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        drop_last=drop_last,
        collate_fn=collate,
        generator=generator,
        num_workers=num_workers,
    )
