"""Fine-tuning a language model as a text classifier (chapter 6): head, pooling, loss, accuracy, files.

A language model's output head scores every token of the vocabulary at every position. For a
classifier we swap that head for a small ``nn.Linear(emb_dim, num_classes)`` and read its output at
the *last real token* of each message: with causal attention that is the only position that has
seen the whole message. (In a padded batch the last *position* may be padding, whose output has
seen the message plus padding tokens: ``pool(..., how="last_position")`` is kept for that
comparison.)

The data side (balance, split, padded batches) is ``classify_data``.

Model: ``add_classification_head`` (new head, everything frozen except the last block(s), the
final norm and the head); ``class_logits`` (one row of class scores per message); ``classify``.

Training pieces for ``training.loop.train`` (``batch_loss(model, batch, device) -> loss``): ``cls_batch_loss`` (built
on ``cls_loss(logits, labels)``, a different thing from chapter 5's next-token ``lm_loss``),
``accuracy``, ``predictions`` and ``cls_loss_over_loader``. Files: ``classifier_files``.

Every function only uses the shared model interface (``model.blocks``, ``model.final_norm``,
``model.out_head``, ``model.cfg``), so GPT-2 and Llama-style models are handled the same way.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .classify_data import pad_batch

POOLINGS = ("last", "last_position", "first")


# ---------------------------------------------------------------------------------------------
# Reading one output per message


def last_token_index(attention_mask: torch.Tensor) -> torch.Tensor:
    """Position of the last real token in each row, for right- or left-padded batches.

    >>> last_token_index(torch.tensor([[1, 1, 0, 0], [0, 1, 1, 1], [1, 1, 1, 1]])).tolist()
    [1, 3, 3]
    """
    if attention_mask.ndim != 2:
        raise ValueError(f"attention_mask must be (batch, seq_len), got shape {tuple(attention_mask.shape)}")
    real = attention_mask.bool()
    if not bool(real.any(dim=1).all()):
        raise ValueError("a row of attention_mask has no real token (all padding): an empty message")
    T = real.shape[1]
    return T - 1 - real.flip(1).int().argmax(dim=1)  # first real token from the right


def first_token_index(attention_mask: torch.Tensor) -> torch.Tensor:
    """Position of the first real token in each row (0 with right padding)."""
    if not bool(attention_mask.bool().any(dim=1).all()):
        raise ValueError("a row of attention_mask has no real token (all padding): an empty message")
    return attention_mask.bool().int().argmax(dim=1)


def pool(
    outputs: torch.Tensor, attention_mask: torch.Tensor | None = None, *, how: str = "last"
) -> torch.Tensor:
    """Pick one position per row of ``outputs`` (B, T, C) -> (B, C).

    ``how="last"``: the last real token (the right choice); ``"last_position"``: position T-1,
    padding or not (the pitfall); ``"first"``: the first real token (it has seen only itself).
    """
    if how not in POOLINGS:
        raise ValueError(f"how must be one of {POOLINGS}, got {how!r}")
    B, T, _ = outputs.shape
    if attention_mask is None:
        attention_mask = torch.ones(B, T, dtype=torch.long, device=outputs.device)
    if how == "last_position":
        index = torch.full((B,), T - 1, device=outputs.device)
    elif how == "last":
        index = last_token_index(attention_mask)
    else:
        index = first_token_index(attention_mask)
    return outputs[torch.arange(B, device=outputs.device), index.to(outputs.device)]  # (B, T, C) -> (B, C)


def accepts_attention_mask(model: nn.Module) -> bool:
    """True if ``model.forward`` takes an ``attention_mask`` argument."""
    return "attention_mask" in inspect.signature(model.forward).parameters


def class_logits(
    model: nn.Module,
    token_ids: torch.Tensor,
    attention_mask: torch.Tensor | None = None,
    *,
    pooling: str = "last",
) -> torch.Tensor:
    """Class scores (B, num_classes): the model's head output at one position per message.

    Right padding needs no mask (causal attention: real tokens never see the padding after
    them). Left padding does: the mask is passed to the model, which must accept ``attention_mask``.
    """
    if attention_mask is not None and not bool(
        attention_mask[:, 0].bool().all()
    ):  # some row starts with padding
        if not accepts_attention_mask(model):
            raise ValueError(
                f"this batch is left-padded but {type(model).__name__}.forward has no attention_mask argument, "
                "so the real tokens would attend to the padding; use padding_side='right'"
            )
        logits = model(token_ids, attention_mask=attention_mask)
    else:
        logits = model(token_ids)
    return pool(logits, attention_mask, how=pooling)


# ---------------------------------------------------------------------------------------------
# The model: a new head, most of it frozen


def add_classification_head(
    model: nn.Module, num_classes: int = 2, *, trainable_blocks: int | str = 1
) -> nn.Module:
    """Replace ``model.out_head`` by ``nn.Linear(emb_dim, num_classes)`` and freeze most of the model.

    Trainable afterwards: the new head, ``model.final_norm`` and the last ``trainable_blocks``
    transformer blocks (``trainable_blocks="all"`` trains every parameter, embeddings included).
    The new head is created on the device and dtype of the model's parameters; seed first
    (``torch.manual_seed``) for a reproducible initialization. Returns the same model.
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")
    for attr in ("blocks", "final_norm", "out_head", "cfg"):
        if not hasattr(model, attr):
            raise TypeError(
                f"{type(model).__name__} has no {attr!r}: add_classification_head needs the shared model interface"
            )
    n_blocks = len(model.blocks)
    if trainable_blocks != "all" and (
        isinstance(trainable_blocks, bool)
        or not isinstance(trainable_blocks, int)
        or not 0 <= trainable_blocks <= n_blocks
    ):
        raise ValueError(
            f"trainable_blocks must be 'all' or an integer from 0 to {n_blocks}, got {trainable_blocks!r}"
        )
    reference = next(model.parameters())
    for param in model.parameters():
        param.requires_grad_(trainable_blocks == "all")
    model.out_head = nn.Linear(model.cfg.emb_dim, num_classes).to(
        device=reference.device, dtype=reference.dtype
    )
    if trainable_blocks != "all":
        tail = list(model.blocks)[n_blocks - trainable_blocks :] if trainable_blocks else []
        for module in [*tail, model.final_norm, model.out_head]:
            for param in module.parameters():
                param.requires_grad_(True)
    return model


def num_classes_of(model: nn.Module) -> int:
    """Number of classes the model's head scores (``out_features`` of its last linear layer)."""
    head = model.out_head
    linear = getattr(head, "linear", head)  # a LoRA-wrapped head keeps its base layer in .linear
    return linear.out_features


# ---------------------------------------------------------------------------------------------
# Loss and accuracy


def cls_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy between class scores (B, num_classes) and class ids (B,).

    The classification loss: one label per *message*. (Chapter 5's ``lm_loss`` has one target per
    *token*; the two must not share a name.)
    """
    if logits.ndim != 2:
        raise ValueError(
            f"logits must be (batch, num_classes), got shape {tuple(logits.shape)}; pool the (B, T, C) output first (class_logits)"
        )
    if labels.shape != logits.shape[:1]:
        raise ValueError(
            f"labels must be (batch,) = {tuple(logits.shape[:1])}, got shape {tuple(labels.shape)}"
        )
    bad = (labels < 0) | (labels >= logits.shape[1])
    if bool(bad.any()):
        raise ValueError(
            f"label {labels[bad][0].item()} is outside the expected set {list(range(logits.shape[1]))}"
        )
    return F.cross_entropy(logits, labels)


def model_device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def cls_batch_loss(
    model: nn.Module,
    batch: Sequence[torch.Tensor],
    device: torch.device | None = None,
    *,
    pooling: str = "last",
) -> torch.Tensor:
    """``cls_loss`` of one ``ClassBatch``: the ``batch_loss(model, batch, device)`` of ``training.loop.train``.

    ``device`` defaults to the model's device.
    """
    device = model_device(model) if device is None else device
    token_ids, attention_mask, labels = (t.to(device) for t in batch)
    return cls_loss(class_logits(model, token_ids, attention_mask, pooling=pooling), labels)


def _eval_batches(model: nn.Module, loader, max_batches: int | None):
    """Yield (logits, labels) in eval mode without gradients; restore the model's mode afterwards."""
    was_training = model.training
    model.eval()
    device = model_device(model)
    try:
        with torch.no_grad():
            for i, batch in enumerate(loader):
                if max_batches is not None and i >= max_batches:
                    break
                token_ids, attention_mask, labels = (t.to(device) for t in batch)
                yield token_ids, attention_mask, labels
    finally:
        model.train(was_training)


def accuracy(model: nn.Module, loader, *, max_batches: int | None = None, pooling: str = "last") -> float:
    """Fraction of messages in ``loader`` (its first ``max_batches`` batches) classified correctly."""
    correct = total = 0
    for token_ids, attention_mask, labels in _eval_batches(model, loader, max_batches):
        predictions = class_logits(model, token_ids, attention_mask, pooling=pooling).argmax(dim=-1)
        correct += int((predictions == labels).sum())
        total += len(labels)
    if total == 0:
        raise ValueError("the loader gave no messages")
    return correct / total


def predictions(model: nn.Module, loader, *, pooling: str = "last") -> list[int]:
    """The predicted class id of every message in ``loader``, in the loader's order (no gradients)."""
    out: list[int] = []
    for token_ids, attention_mask, _ in _eval_batches(model, loader, None):
        out += class_logits(model, token_ids, attention_mask, pooling=pooling).argmax(dim=-1).tolist()
    return out


def cls_loss_over_loader(
    model: nn.Module, loader, *, max_batches: int | None = None, pooling: str = "last"
) -> float:
    """Mean ``cls_loss`` per message over ``loader`` (its first ``max_batches`` batches), no gradients."""
    loss_sum, total = 0.0, 0
    for token_ids, attention_mask, labels in _eval_batches(model, loader, max_batches):
        loss_sum += cls_loss(
            class_logits(model, token_ids, attention_mask, pooling=pooling), labels
        ).item() * len(labels)
        total += len(labels)
    if total == 0:
        raise ValueError("the loader gave no messages")
    return loss_sum / total


@torch.no_grad()
def classify(
    model: nn.Module,
    text: str,
    encode: Callable[[str], list[int]],
    *,
    label_names: Sequence[str] = ("ham", "spam"),
    max_length: int | None = None,
) -> str:
    """The class name the model gives ``text`` (e.g. ``"spam"``).

    ``max_length`` defaults to the model's ``context_length``; a longer message keeps its first
    ``max_length`` tokens and a warning says so.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"text is empty ({text!r}): there is nothing to classify")
    if len(label_names) != num_classes_of(model):
        raise ValueError(
            f"label_names has {len(label_names)} names but the model's head has {num_classes_of(model)} classes"
        )
    max_length = max_length or model.cfg.context_length
    ids = list(encode(text))
    if len(ids) > max_length:
        warnings.warn(
            f"the message has {len(ids)} tokens, more than max_length={max_length}; only its first {max_length} tokens were classified",
            stacklevel=2,
        )
        ids = ids[:max_length]
    was_training = model.training
    model.eval()
    try:
        logits = class_logits(model, torch.tensor([ids], device=model_device(model)))
    finally:
        model.train(was_training)
    return label_names[int(logits.argmax(dim=-1))]


@torch.no_grad()
def classify_all(
    model: nn.Module,
    texts: Sequence[str],
    encode: Callable[[str], list[int]],
    *,
    label_names: Sequence[str] = ("ham", "spam"),
    max_length: int | None = None,
    batch_size: int = 32,
) -> list[str]:
    """``classify`` for many texts, ``batch_size`` at a time: the same labels, one forward pass per batch.

    Messages of similar length share a batch, right-padded (causal attention: a real token never
    sees the padding after it, so no mask reaches the model) and pooled at each row's last real token.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    for i, text in enumerate(texts):
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"text {i} is empty ({text!r}): there is nothing to classify")
    if len(label_names) != num_classes_of(model):
        raise ValueError(
            f"label_names has {len(label_names)} names but the model's head has {num_classes_of(model)} classes"
        )
    max_length = max_length or model.cfg.context_length
    ids = [list(encode(text)) for text in texts]
    long = [i for i, row in enumerate(ids) if len(row) > max_length]
    if long:
        warnings.warn(
            f"{len(long)} message(s) have more than max_length={max_length} tokens (indices {long[:10]}); "
            f"only their first {max_length} tokens were classified",
            stacklevel=2,
        )
    ids = [row[:max_length] for row in ids]
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    device, labels = model_device(model), [""] * len(ids)
    was_training = model.training
    model.eval()
    try:
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            token_ids, attention_mask = pad_batch([ids[i] for i in chunk], pad_id=0, padding_side="right")
            logits = class_logits(model, token_ids.to(device), attention_mask.to(device))  # (B, num_classes)
            for i, label in zip(chunk, logits.argmax(dim=-1).tolist()):
                labels[i] = label_names[label]
    finally:
        model.train(was_training)
    return labels
