"""Why chapter 5's 124M run stalls: the loss curves of a few initializations, side by side.

Every variant trains the same model size on the same story with the same batches in the same order,
the same seeds (model, data order, dropout) and AdamW(lr 4e-4, weight decay 0.1); only the variant
differs:

- ``gpt2-tied``: GPT-2's initialization (std 0.02, residual projections 0.02 / sqrt(2 n_layers)) and
  the output head tied to the token table, constant lr: the chapter's first recipe.
- ``gpt2-untied``: the same with a separate output layer (is the tie the cause?).
- ``torch-untied``: PyTorch's default initialization, untied head (the recipe of the book).
- ``gpt2-tied-warmup``: the first recipe with a linear learning-rate warmup over ``--warmup`` steps.

Two experiments, written to one JSON file the notebook plots (``--out``):

- ``one_batch``: one batch, repeated ``--one-batch-steps`` times, dropout off: the training loss on
  that batch at every step. Adam's first steps move each weight by about ``lr``; with GPT-2's small
  weights that overshoots (the loss jumps on the 4th step), with PyTorch's defaults it does not.
- ``runs``: ``--steps`` steps of the real loader (dropout on), per-step training losses, and the
  train/validation losses every ``--eval-every`` steps.
- ``recipe`` (with ``--recipe-epochs``): ``torch-untied`` trained that many epochs, evaluated once per
  epoch, then greedy continuations of four 16-token windows of the training text against the story.

Run from the repository root (about 3.5 s per 124M step on a quiet 2-core CPU in bf16)::

    python ch05_pretraining/stall_experiment.py --out ch05_pretraining/stall_experiment.json
    python ch05_pretraining/stall_experiment.py --steps 0 --recipe-epochs 20 --out /tmp/recipe.json  # the recipe
    python ch05_pretraining/stall_experiment.py --model tiny --steps 4 --one-batch-steps 2 --recipe-epochs 1 --out /tmp/x.json  # smoke
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "shared"))

from llmscratch.assets import load_text
from llmscratch.model.config import GPT2_124M, TINY
from llmscratch.model.gpt import GPTModel
from llmscratch.settings import seed_everything
from llmscratch.text.dataset import create_dataloader
from llmscratch.training.loop import train
from llmscratch.training.losses import lm_loss
from llmscratch.training.precision import autocast, choose_precision
from llmscratch.training.schedules import WarmupCosine

VARIANTS = ("gpt2-tied", "gpt2-untied", "torch-untied", "gpt2-tied-warmup")
LR, WEIGHT_DECAY, SEED, BATCH_SIZE = 4e-4, 0.1, 123, 2


def build(cfg, variant: str) -> GPTModel:
    """The model of ``variant``, built after the same seed (so gpt2-* variants share their weights)."""
    seed_everything(SEED)
    model = GPTModel(cfg.with_(tie_embeddings="untied" not in variant))
    if variant.startswith("torch"):
        model.init_weights("torch")
    return model


def loaders(cfg):
    text = load_text()
    split = int(0.9 * len(text))
    kw = {"batch_size": BATCH_SIZE, "max_length": cfg.context_length, "stride": cfg.context_length}
    train_loader = create_dataloader(text[:split], shuffle=True, drop_last=True, generator=torch.Generator().manual_seed(SEED), **kw)
    val_loader = create_dataloader(text[split:], shuffle=False, drop_last=False, **kw)
    return train_loader, val_loader


def schedule(variant: str, warmup: int):
    """Linear warmup to LR over ``warmup`` steps, then constant (min_lr = max_lr), or None."""
    if not variant.endswith("warmup"):
        return None
    return WarmupCosine(max_lr=LR, warmup_steps=warmup, total_steps=warmup + 1, min_lr=LR)


def one_batch(cfg, variant: str, batch, steps: int, warmup: int, dtype) -> list[float]:
    """Training losses of ``steps`` AdamW steps on one batch, dropout off."""
    model = build(cfg.with_(drop_rate=0.0), variant)
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    lr_at = schedule(variant, warmup)
    inputs, targets = batch
    losses = []
    for step in range(steps):
        if lr_at is not None:
            for group in opt.param_groups:
                group["lr"] = lr_at(step)
        with autocast(torch.device("cpu"), dtype):
            loss = lm_loss(model(inputs), targets)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def run(cfg, variant: str, train_loader, val_loader, steps: int, eval_every: int, warmup: int, dtype) -> dict:
    model = build(cfg, variant)
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    seed_everything(SEED)  # the same dropout masks for every variant
    epochs = -(-steps // len(train_loader))
    h = train(model, opt, train_loader, val_loader=val_loader, epochs=epochs, max_steps=steps, eval_every=eval_every,
              eval_batches=4, lr_schedule=schedule(variant, warmup), autocast_dtype=dtype, progress=False)
    return {"step_losses": h.step_losses, "steps": h.steps, "train_losses": h.train_losses, "val_losses": h.val_losses,
            "lrs": h.lrs, "grad_norms": h.grad_norms, "seconds": round(h.seconds, 1)}


def memorization(model: GPTModel, cfg, starts=(0, 1000, 3000, 5000), prompt_len: int = 16, new: int = 24) -> list[dict]:
    """Greedy continuations of training-text windows vs the story's own next tokens."""
    from llmscratch.model.generate import generate
    from llmscratch.text.gpt2 import gpt2_encoding

    tok = gpt2_encoding()
    text = load_text()
    ids = tok.encode(text[: int(0.9 * len(text))])
    model.eval()
    probes = []
    for start in starts:
        prompt = torch.tensor([ids[start : start + prompt_len]])  # (1, prompt_len)
        out = generate(model, prompt, new)[0, prompt_len:].tolist()
        truth = ids[start + prompt_len : start + prompt_len + new]
        probes.append({"prompt": tok.decode(prompt[0].tolist()), "continuation": tok.decode(out), "story": tok.decode(truth),
                       "tokens_matching": sum(int(a == b) for a, b in zip(out, truth)), "tokens": len(truth)})
    return probes


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--model", choices=("124M", "tiny"), default="124M")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--one-batch-steps", type=int, default=6)
    ap.add_argument("--steps", type=int, default=42, help="steps of the real loader per variant (0: skip)")
    ap.add_argument("--eval-every", type=int, default=7)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--recipe-epochs", type=int, default=0, help="also train torch-untied this many epochs and probe memorization")
    a = ap.parse_args(argv)
    variants = a.variants.split(",")
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        ap.error(f"unknown variant(s) {sorted(unknown)}; choose from {VARIANTS}")
    cfg = GPT2_124M.with_(context_length=256) if a.model == "124M" else TINY
    dtype = choose_precision(torch.device("cpu")).dtype
    train_loader, val_loader = loaders(cfg)
    batch = next(iter(loaders(cfg)[0]))  # the first batch of a fresh loader: the one the notebook uses
    result = {"model": a.model, "lr": LR, "weight_decay": WEIGHT_DECAY, "seed": SEED, "warmup": a.warmup, "batch_size": BATCH_SIZE,
              "context_length": cfg.context_length, "precision": str(dtype), "one_batch": {}, "runs": {}}
    for variant in variants:
        start = time.perf_counter()
        result["one_batch"][variant] = one_batch(cfg, variant, batch, a.one_batch_steps, a.warmup, dtype)
        print(f"one batch  {variant:17s}", " -> ".join(f"{x:.2f}" for x in result["one_batch"][variant]),
              f"({time.perf_counter() - start:.0f} s)", flush=True)
        a.out.write_text(json.dumps(result, indent=1))
    for variant in variants if a.steps else ():
        r = run(cfg, variant, train_loader, val_loader, a.steps, a.eval_every, a.warmup, dtype)
        result["runs"][variant] = r
        print(f"{a.steps} steps {variant:17s} train", " ".join(f"{x:.2f}" for x in r["train_losses"]),
              f"| val {r['val_losses'][-1]:.2f} ({r['seconds']:.0f} s)", flush=True)
        a.out.write_text(json.dumps(result, indent=1))
    if a.recipe_epochs:
        model = build(cfg, "torch-untied")
        opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
        seed_everything(SEED)
        h = train(model, opt, train_loader, val_loader=val_loader, epochs=a.recipe_epochs, eval_every=len(train_loader),
                  eval_batches=4, autocast_dtype=dtype, desc="torch-untied recipe")
        result["recipe"] = {"epochs": a.recipe_epochs, "steps": h.steps, "train_losses": h.train_losses, "val_losses": h.val_losses,
                            "step_losses": h.step_losses, "seconds": round(h.seconds, 1), "probes": memorization(model, cfg)}
        a.out.write_text(json.dumps(result, indent=1))
        for p in result["recipe"]["probes"]:
            print(f"{p['tokens_matching']}/{p['tokens']} tokens as in the story: {p['prompt']!r} -> {p['continuation']!r}")


if __name__ == "__main__":
    main()
