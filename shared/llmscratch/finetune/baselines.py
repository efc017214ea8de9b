"""Baselines a fine-tuned classifier must beat: the majority class and bag-of-words logistic regression.

- ``majority_class_accuracy``: always answer the class most common in the *training* labels.
- ``known_word_share``: how much of a test set a bag of words fitted on the training texts can even
  see (the share of its word occurrences that are in the training vocabulary).
- ``bow_logistic_regression``: each message becomes a 0/1 vector over the training vocabulary
  (which words occur, not where), then one ``nn.Linear`` layer is fitted with cross-entropy. It
  knows nothing about word order or meaning, so what a fine-tuned LLM gains over it is what
  context and pretraining buy.

>>> majority_class_accuracy([0, 0, 1], [0, 1, 1, 1])
0.25
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

_WORD = re.compile(r"[a-z0-9£$€']+")


def words(text: str) -> list[str]:
    """Lower-cased words, numbers and currency signs.

    >>> words("WIN £100 now, it's free!")
    ['win', '£100', 'now', "it's", 'free']
    """
    return _WORD.findall(text.lower())


def majority_class_accuracy(train_labels: Sequence[int], eval_labels: Sequence[int]) -> float:
    """Accuracy on ``eval_labels`` of always predicting the most common training label."""
    if not train_labels or not eval_labels:
        raise ValueError("train_labels and eval_labels must not be empty")
    majority = Counter(train_labels).most_common(1)[0][0]
    return sum(label == majority for label in eval_labels) / len(eval_labels)


def known_word_share(train_texts: Sequence[str], texts: Sequence[str]) -> float:
    """Share of the word occurrences in ``texts`` that occur somewhere in ``train_texts``.

    A word the training texts never contain is invisible to a bag of words (``BowResult.features``
    ignores it); this says how much of a test set is left for it to read.

    >>> known_word_share(["pay now", "see you"], ["pay the fee, pay now"])  # pay, pay, now of 5 words
    0.6
    """
    vocab = {w for text in train_texts for w in words(text)}
    occurrences = [w for text in texts for w in words(text)]
    if not occurrences:
        raise ValueError("texts contain no words")
    return sum(w in vocab for w in occurrences) / len(occurrences)


@dataclass
class BowResult:
    """A fitted bag-of-words model and its accuracy on each evaluation set."""

    vocab: dict[str, int]
    linear: nn.Linear
    accuracies: dict[str, float] = field(default_factory=dict)

    def features(self, texts: Sequence[str]) -> torch.Tensor:
        """(N, vocab size) 0/1 matrix: does word j occur in message i? Unknown words are ignored."""
        x = torch.zeros(len(texts), len(self.vocab))
        for i, text in enumerate(texts):
            cols = [self.vocab[w] for w in set(words(text)) if w in self.vocab]
            x[i, cols] = 1.0
        return x

    @torch.no_grad()
    def predict(self, texts: Sequence[str]) -> list[int]:
        return self.linear(self.features(texts)).argmax(dim=-1).tolist()


def bow_logistic_regression(
    train_texts: Sequence[str],
    train_labels: Sequence[int],
    eval_sets: dict[str, tuple[Sequence[str], Sequence[int]]] | None = None,
    *,
    num_classes: int = 2,
    min_count: int = 1,
    steps: int = 300,
    lr: float = 0.1,
    weight_decay: float = 1e-3,
    seed: int = 123,
) -> BowResult:
    """Fit logistic regression on word-presence vectors (full batch, Adam) and score ``eval_sets``.

    ``eval_sets`` maps a name to ``(texts, labels)``, e.g. ``{"val": ..., "test": ...}``; the
    training accuracy is always reported as ``"train"``.
    """
    if len(train_texts) != len(train_labels) or not train_texts:
        raise ValueError(
            f"need as many train labels as texts (and at least one), got {len(train_texts)} and {len(train_labels)}"
        )
    counts = Counter(w for text in train_texts for w in set(words(text)))
    vocab = {w: j for j, w in enumerate(sorted(w for w, c in counts.items() if c >= min_count))}
    torch.manual_seed(seed)
    result = BowResult(vocab, nn.Linear(len(vocab), num_classes))
    x, y = result.features(train_texts), torch.tensor(list(train_labels))
    optimizer = torch.optim.Adam(result.linear.parameters(), lr=lr, weight_decay=weight_decay)
    for _ in range(steps):
        optimizer.zero_grad()
        F.cross_entropy(result.linear(x), y).backward()
        optimizer.step()
    for name, (texts, labels) in {"train": (train_texts, train_labels), **(eval_sets or {})}.items():
        predictions = result.predict(texts)
        result.accuracies[name] = sum(p == t for p, t in zip(predictions, labels)) / len(labels)
    return result
