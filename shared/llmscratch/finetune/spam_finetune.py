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

Every run also scores the chapter's two baselines (majority class, bag-of-words logistic regression)
on the *same* training messages, and all three on two test sets: the usual test split (kinds the
model was trained on) and the held-out kinds (``spam_data.load_heldout_kinds``: scenarios, templates
and words that never occur in training).

One seed is one draw: the seed picks the balanced subset, the split, the batch order and the new
head's initial weights. ``over_seeds`` runs a method over several seeds and ``SeedRuns.table()``
(module ``seed_runs``) reports mean, standard deviation and range of every accuracy, so a
comparison is never one draw.

``python -m llmscratch.finetune.spam_finetune --method lora --n-train 96`` prints one JSON line (see ``run``);
``heldout_accuracy_by_kind`` says which unseen kinds a run got right.
``--seeds 1 2 3`` runs each seed in a fresh process, prints one JSON line per seed, then the table.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

from ..assets.make_sms_heldout import make_heldout_messages
from ..model.lora import apply_lora
from ..settings import seed_everything
from ..training.loop import train
from ..weights.backbone import load_backbone
from .baselines import bow_logistic_regression, majority_class_accuracy
from .classifier_files import save_classifier
from .classify import (
    accuracy,
    add_classification_head,
    class_logits,
    cls_batch_loss,
    predictions,
)
from .classify_data import (
    ClassificationDataset,
    LabelledTexts,
    balance_by_undersampling,
    classification_loader,
    split_dataset,
)
from .seed_runs import SeedRuns, Spread
from .spam_data import load_heldout_kinds, load_sms

__all__ = [  # SeedRuns and Spread live in seed_runs; importable from here as before
    "SeedRuns",
    "Spread",
    "heldout_accuracy_by_kind",
    "main",
    "over_seeds",
    "peak_rss_mib",
    "run",
    "run_in_fresh_process",
]


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
    n_heldout: int | None = None,
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

    Returns a dict: ``method``, ``seed``, ``train_messages``, ``test_messages``, ``heldout_messages``,
    ``val_accuracy``, ``test_accuracy``, ``heldout_accuracy`` (the held-out kinds: all 200, or the first ``n_heldout``) and
    ``heldout_predictions`` (one class id per held-out message, in file order, for a per-kind look), the
    baselines fitted on the same training messages (``bow_test_accuracy``, ``bow_heldout_accuracy``,
    ``majority_test_accuracy``, ``majority_heldout_accuracy``), ``seconds`` (training wall time), ``trainable`` (parameters),
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
    parts = [
        LabelledTexts(s.texts[:n], s.labels[:n])
        for s, n in ((splits.train, n_train), (splits.val, n_val), (splits.test, n_test))
    ]
    heldout = load_heldout_kinds()
    parts.append(LabelledTexts(heldout.texts[:n_heldout], heldout.labels[:n_heldout]))
    evals = {"test": parts[2], "heldout": parts[3]}
    bow = bow_logistic_regression(
        parts[0].texts, parts[0].labels, {k: (p.texts, p.labels) for k, p in evals.items()}, seed=seed
    )
    baselines = {
        f"{name}_{k}_accuracy": value
        for k in evals
        for name, value in (
            ("bow", bow.accuracies[k]),
            ("majority", majority_class_accuracy(parts[0].labels, evals[k].labels)),
        )
    }
    backbone = load_backbone(verbose=False)
    model, tokenizer = backbone.model, backbone.tokenizer
    loaders = [
        classification_loader(
            ClassificationDataset(p.texts, p.labels, tokenizer.encode, max_length=model.cfg.context_length),
            pad_id=tokenizer.pad_id,
            batch_size=batch_size,
            shuffle=i == 0,
            seed=seed,
            pad_to=pad_to,
        )
        for i, p in enumerate(parts)
    ]
    seed_everything(seed)
    add_classification_head(model, 2, trainable_blocks="all" if method == "all" else 1)
    if method == "lora":
        apply_lora(model, rank=rank, alpha=alpha)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    with (
        torch.no_grad()
    ):  # one inference pass first, so thread pools and allocator caches are in the baseline
        first = next(iter(loaders[0]))
        class_logits(model, first.token_ids, first.attention_mask)
    rss_before_training = peak_rss_mib()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr, weight_decay=0.1)
    started = time.perf_counter()
    batch_loss = functools.partial(cls_batch_loss, pooling=pooling)
    train(
        model,
        optimizer,
        loaders[0],
        epochs=epochs,
        batch_loss=batch_loss,
        eval_at_start=False,
        eval_batches=1,
        progress=progress,
        desc=method,
    )
    seconds = time.perf_counter() - started
    heldout_predictions = predictions(model, loaders[3], pooling=pooling)
    result = {
        "method": method,
        "seed": seed,
        "train_messages": len(parts[0]),
        "test_messages": len(parts[2]),
        "heldout_messages": len(parts[3]),
        "val_accuracy": accuracy(model, loaders[1], pooling=pooling),
        "test_accuracy": accuracy(model, loaders[2], pooling=pooling),
        "heldout_accuracy": sum(p == y for p, y in zip(heldout_predictions, parts[3].labels)) / len(parts[3]),
        "heldout_predictions": heldout_predictions,
        **baselines,
        "seconds": seconds,
        "trainable": trainable,
        "rss_before_training_mib": rss_before_training,
        "peak_rss_mib": peak_rss_mib(),
        "device": str(next(model.parameters()).device),
        "backbone": backbone.name,
    }
    if save:
        save_classifier(model, save, trainable_only=True)
    return result


def heldout_accuracy_by_kind(predictions: Sequence[int]) -> dict[str, float]:
    """Accuracy per held-out kind from ``run()["heldout_predictions"]`` (the first ``len(predictions)`` messages).

    The kinds come from the generator (``assets.make_sms_heldout``), which writes the file in this order.
    """
    messages = make_heldout_messages()
    if len(predictions) > len(messages):
        raise ValueError(f"{len(predictions)} predictions for {len(messages)} held-out messages")
    right: dict[str, list[bool]] = {}
    for p, (label, kind, _) in zip(predictions, messages):
        right.setdefault(kind, []).append(p == ("ham", "spam").index(label))
    return {kind: sum(r) / len(r) for kind, r in sorted(right.items())}


def run_in_fresh_process(method: str, **kwargs) -> dict:
    """``run(method, **kwargs)`` in a new Python process (so its peak-memory numbers are its own)."""
    args = [sys.executable, "-m", "llmscratch.finetune.spam_finetune", "--method", method]
    for key, value in kwargs.items():
        if value is None or value is False:
            continue
        args += [f"--{key.replace('_', '-')}"] + ([] if value is True else [str(value)])
    package_root = Path(__file__).resolve().parent.parent  # so the new process imports this very package
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(package_root), os.environ.get("PYTHONPATH")])),
    }
    done = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    if done.returncode:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def over_seeds(
    method: str = "last_block",
    seeds: Sequence[int] = (1, 2, 3),
    *,
    fresh_process: bool = False,
    runner: Callable[..., dict] | None = None,
    log: Callable[[dict], None] | None = None,
    **kwargs,
) -> SeedRuns:
    """Run ``method`` once per seed (same settings ``kwargs``) and collect the results.

    ``fresh_process=True`` runs each seed in a new process (``run_in_fresh_process``); ``runner``
    replaces ``run`` altogether (tests pass a stand-in). ``log`` is called with each result as it
    arrives (e.g. ``print``), so a long sweep shows progress.
    """
    seeds = list(seeds)
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be a non-empty list of distinct integers, got {seeds}")
    if "seed" in kwargs:
        raise TypeError("pass the seeds as seeds=[...], not seed=")
    runner = runner or (run_in_fresh_process if fresh_process else run)
    out = SeedRuns(method)
    for seed in seeds:
        result = runner(method, seed=seed, **kwargs)
        out.runs.append(result)
        if log is not None:
            log(result)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--method", default="last_block", choices=["last_block", "lora", "all"])
    for name in ("n-train", "n-val", "n-test", "n-heldout"):
        parser.add_argument(f"--{name}", type=int, default=None, help="messages of that split (default: all)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--alpha", type=float, default=16)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument(
        "--seed", type=int, default=123, help="picks the data subset and split, batch order and head init"
    )
    parser.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=None,
        help="run once per seed, each in a fresh process; print each result, then mean, std and range",
    )
    parser.add_argument("--pooling", default="last", choices=["last", "last_position", "first"])
    parser.add_argument("--pad-to", type=int, default=None, help="pad every batch to this many tokens")
    parser.add_argument(
        "--save", default=None, help="write the trainable parameters to this safetensors file"
    )
    args = parser.parse_args(argv)
    if args.seeds:
        settings = {
            "n_train": args.n_train,
            "n_val": args.n_val,
            "n_test": args.n_test,
            "n_heldout": args.n_heldout,
            "epochs": args.epochs,
            "lr": args.lr,
            "rank": args.rank,
            "alpha": args.alpha,
            "batch_size": args.batch_size,
            "pooling": args.pooling,
            "pad_to": args.pad_to,
        }
        runs = over_seeds(
            args.method,
            args.seeds,
            fresh_process=True,
            log=lambda r: print(json.dumps(r), flush=True),
            **settings,
        )
        print(runs.table())
        return
    result = run(
        args.method,
        n_train=args.n_train,
        n_val=args.n_val,
        n_test=args.n_test,
        n_heldout=args.n_heldout,
        epochs=args.epochs,
        lr=args.lr,
        rank=args.rank,
        alpha=args.alpha,
        batch_size=args.batch_size,
        seed=args.seed,
        pooling=args.pooling,
        pad_to=args.pad_to,
        save=args.save,
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
