"""Chapter 6's spam classifier fine-tuned in one call, measured: ``python -m llmscratch.finetune.spam_finetune``.

The notebooks build each step in cells; this module repeats the recipe end to end so that two ways
of fine-tuning can be compared *fairly*, each in a fresh process:

- ``method="last_block"``: a 2-class head, everything frozen except the last block, final norm and head;
- ``method="lora"``: the same head, then every linear layer wrapped with LoRA and the base frozen;
- ``method="all"``: every parameter trains.

A fresh process is what makes the memory number honest: ``resource.getrusage(...).ru_maxrss`` is a
process's peak resident memory, and PyTorch's CPU tensors are invisible to ``tracemalloc``. The run
records the peak after loading the backbone and running one inference batch, and the peak after
training; the difference is what training added (activations kept for the backward pass,
gradients, optimizer state).

``python -m llmscratch.finetune.spam_finetune --method lora --n-train 96`` prints one JSON line (see ``run``).
"""

from __future__ import annotations

import argparse
import functools
import json
import resource
import sys
import time
from pathlib import Path

import torch

from ..model.lora import apply_lora
from ..settings import seed_everything
from ..training.loop import train
from ..weights.backbone import load_backbone
from .classify import accuracy, add_classification_head, class_logits, cls_batch_loss, save_classifier
from .classify_data import (
    ClassificationDataset,
    LabelledTexts,
    balance_by_undersampling,
    classification_loader,
    split_dataset,
)
from .spam_data import load_sms


def peak_rss_mib() -> float:
    """This process's peak resident memory so far, in MiB.

    On Linux it reads ``VmHWM`` from ``/proc/self/status``: ``ru_maxrss`` survives ``exec``, so a
    fresh interpreter started by a big process would report its parent's peak. Elsewhere
    ``ru_maxrss`` (macOS reports bytes).
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 2**10  # kB
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def run(
    method: str = "last_block",
    *,
    n_train: int | None = None,
    n_val: int | None = None,
    n_test: int | None = None,
    epochs: int = 1,
    lr: float = 1e-4,
    rank: int = 8,
    alpha: float = 16,
    batch_size: int = 8,
    seed: int = 123,
    pooling: str = "last",
    pad_to: int | None = None,
    save: str | None = None,
    progress: bool = False,
) -> dict:
    """Fine-tune on the first ``n_*`` messages of each split and return what was measured.

    Returns a dict: ``method``, ``train_messages``, ``test_messages``, ``val_accuracy``,
    ``test_accuracy``, ``seconds`` (training wall time), ``trainable`` (parameters),
    ``rss_before_training_mib`` (the process peak after loading and one inference pass) and
    ``peak_rss_mib`` (the peak after training), ``device``. With ``save`` the
    trainable parameters are written there (``classify.save_classifier(..., trainable_only=True)``).
    ``pooling`` picks the position read per message (``classify.POOLINGS``) and ``pad_to`` pads every
    batch to that many tokens instead of to its longest message (both for the exercises).
    """
    if method not in ("last_block", "lora", "all"):
        raise ValueError(f"method must be 'last_block', 'lora' or 'all', got {method!r}")
    data = load_sms()
    splits = split_dataset(*balance_by_undersampling(data.texts, data.labels, seed=seed), seed=seed)
    parts = [LabelledTexts(s.texts[:n], s.labels[:n]) for s, n in ((splits.train, n_train), (splits.val, n_val), (splits.test, n_test))]
    backbone = load_backbone(verbose=False)
    model, tokenizer = backbone.model, backbone.tokenizer
    loaders = [classification_loader(ClassificationDataset(p.texts, p.labels, tokenizer.encode, max_length=model.cfg.context_length),
                                     pad_id=tokenizer.pad_id, batch_size=batch_size, shuffle=i == 0, seed=seed, pad_to=pad_to)
               for i, p in enumerate(parts)]
    seed_everything(seed)
    add_classification_head(model, 2, trainable_blocks="all" if method == "all" else 1)
    if method == "lora":
        apply_lora(model, rank=rank, alpha=alpha)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    with torch.no_grad():  # one inference pass first, so thread pools and allocator caches are in the baseline
        first = next(iter(loaders[0]))
        class_logits(model, first.token_ids, first.attention_mask)
    rss_before_training = peak_rss_mib()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr, weight_decay=0.1)
    started = time.perf_counter()
    batch_loss = functools.partial(cls_batch_loss, pooling=pooling)
    train(model, optimizer, loaders[0], epochs=epochs, batch_loss=batch_loss, eval_at_start=False,
          eval_batches=1, progress=progress, desc=method)
    seconds = time.perf_counter() - started
    result = {"method": method, "train_messages": len(parts[0]), "test_messages": len(parts[2]),
              "val_accuracy": accuracy(model, loaders[1], pooling=pooling), "test_accuracy": accuracy(model, loaders[2], pooling=pooling),
              "seconds": seconds, "trainable": trainable, "rss_before_training_mib": rss_before_training,
              "peak_rss_mib": peak_rss_mib(), "device": str(next(model.parameters()).device), "backbone": backbone.name}
    if save:
        save_classifier(model, save, trainable_only=True)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--method", default="last_block", choices=["last_block", "lora", "all"])
    for name in ("n-train", "n-val", "n-test"):
        parser.add_argument(f"--{name}", type=int, default=None, help="messages of that split (default: all)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--alpha", type=float, default=16)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--seed", type=int, default=123)
    parser.add_argument("--pooling", default="last", choices=["last", "last_position", "first"])
    parser.add_argument("--pad-to", type=int, default=None, help="pad every batch to this many tokens")
    parser.add_argument("--save", default=None, help="write the trainable parameters to this safetensors file")
    args = parser.parse_args(argv)
    result = run(args.method, n_train=args.n_train, n_val=args.n_val, n_test=args.n_test, epochs=args.epochs, lr=args.lr,
                 rank=args.rank, alpha=args.alpha, batch_size=args.batch_size, seed=args.seed,
                 pooling=args.pooling, pad_to=args.pad_to, save=args.save)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
