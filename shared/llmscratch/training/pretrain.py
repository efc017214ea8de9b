"""Pretrain a GPT on any text from the command line, on one CPU or on many GPUs under torchrun.

    python -m llmscratch.training.pretrain story.txt --out-dir runs/story --model tiny --epochs 5
    python -m llmscratch.training.pretrain corpus/ --out-dir runs/big --model gpt2-124M --context-length 256 --max-steps 2000
    python -m llmscratch.training.pretrain corpus/ --out-dir runs/big --resume          # continue after a crash
    torchrun --nproc_per_node=8 -m llmscratch.training.pretrain corpus/ --out-dir runs/big   # 8 GPUs, unchanged

The data is a text file or a folder (every ``*.txt`` and ``*.md`` under it, sorted, documents joined
with ``<|endoftext|>``), tokenized with GPT-2's BPE; the last ``--val-fraction`` of the tokens is
the validation split. Windows of ``--context-length`` tokens are shuffled by a
``DistributedSampler``: with N processes each rank trains on its own 1/N of every epoch, and the
order is a function of the seed and the epoch, which is what makes ``--resume`` exact.

In ``--out-dir`` (rank 0 writes): ``checkpoint.safetensors`` (the latest, every
``--checkpoint-every`` steps and at the end, written atomically), ``log.jsonl`` (one line per
step: step, loss, learning rate, tokens seen), ``history.json`` and ``model.safetensors`` +
``config.json`` at the end; every file is written atomically. Every setting is an option
(``--help``); the settings of the run are stored in the checkpoint. ``--resume`` takes the saved
value of every option not typed on its command line (so ``--out-dir runs/x --resume`` continues
the run as it was started) and refuses a typed option that would change the run (another batch
size, learning rate, corpus...) unless ``--override-resume`` says so. On resume ``log.jsonl`` is cut back to the checkpoint's
step, so each step is logged once. Bad input (a missing or pickled file, a device this machine
lacks, a bad option) ends the run with one ``error: ...`` line and exit code 2.

Under ``torchrun`` the model is wrapped in ``DistributedDataParallel`` (NCCL on GPUs, gloo on
CPUs, see ``distributed``); ``--batch-size`` is per process, so the global batch is
``batch_size * world_size`` windows. Mixed precision is chosen by ``precision.choose_precision``
unless ``--precision fp32`` or ``bf16`` forces it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import torch
from torch.nn.parallel import DistributedDataParallel as DDP

from ..constants import ENDOFTEXT
from ..device import get_device
from ..fileio import remove_stale_parts
from ..model.config import PRESETS
from ..model.generate import generate
from ..model.gpt import GPTModel
from ..settings import seed_everything
from ..text.gpt2 import gpt2_encoding
from . import distributed
from .checkpoint import checkpoint_extra, load_checkpoint, save_checkpoint, save_weights
from .corpus import make_loaders
from .history import History
from .loop import train
from .precision import PrecisionChoice, choose_precision
from .resume import resume_mismatch, run_options, take_saved_options, trim_log, write_text_atomically
from .safe_files import CheckpointError
from .schedules import WarmupCosine

CHECKPOINT = "checkpoint.safetensors"
OUTPUTS = (CHECKPOINT, "model.safetensors", "config.json", "history.json", "log.jsonl")  # what a run writes


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line, ``error: ...`` (exit code 2), like every other error here."""

    def error(self, message: str):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog="python -m llmscratch.training.pretrain", description=__doc__.split("\n\n")[0])
    p.add_argument("data", type=Path, help="a UTF-8 text file, or a folder of .txt/.md files")
    p.add_argument(
        "--out-dir", type=Path, required=True, help="where checkpoints, logs and the final model go"
    )
    p.add_argument(
        "--resume", action="store_true", help="continue from OUT_DIR/checkpoint.safetensors if it exists"
    )
    p.add_argument(
        "--override-resume",
        action="store_true",
        help="with --resume: continue even if options that change the run differ from the checkpoint's",
    )
    g = p.add_argument_group("model")
    g.add_argument("--model", default="tiny", choices=sorted(PRESETS), help="size preset (default: tiny)")
    for name in ("context_length", "emb_dim", "n_heads", "n_layers"):
        g.add_argument(
            f"--{name.replace('_', '-')}", type=int, default=None, help=f"override the preset's {name}"
        )
    g.add_argument("--drop-rate", type=float, default=None, help="override the preset's dropout rate")
    g = p.add_argument_group("data")
    g.add_argument(
        "--val-fraction",
        type=float,
        default=0.1,
        help="share of the tokens held out for validation (default 0.1)",
    )
    g.add_argument(
        "--stride",
        type=int,
        default=None,
        help="tokens between window starts (default: context length, no overlap)",
    )
    g.add_argument("--batch-size", type=int, default=4, help="windows per step per process (default 4)")
    g = p.add_argument_group("optimization")
    g.add_argument("--epochs", type=int, default=1, help="passes over the training split (default 1)")
    g.add_argument("--max-steps", type=int, default=None, help="stop after this many steps in total")
    g.add_argument("--lr", type=float, default=4e-4, help="peak learning rate of AdamW (default 4e-4)")
    g.add_argument(
        "--min-lr", type=float, default=None, help="final learning rate of the cosine decay (default lr/10)"
    )
    g.add_argument(
        "--warmup-steps", type=int, default=None, help="linear warmup steps (default: 5%% of the run)"
    )
    g.add_argument("--weight-decay", type=float, default=0.1, help="AdamW weight decay (default 0.1)")
    g.add_argument(
        "--grad-clip",
        type=float,
        default=1.0,
        help="clip the gradient norm to this; 0 turns it off (default 1.0)",
    )
    g.add_argument(
        "--precision", choices=("auto", "fp32", "bf16"), default="auto", help="autocast dtype (default: auto)"
    )
    g.add_argument(
        "--seed", type=int, default=123, help="seeds the model, the data order and dropout (default 123)"
    )
    g = p.add_argument_group("monitoring")
    g.add_argument("--eval-every", type=int, default=50, help="evaluate every this many steps (default 50)")
    g.add_argument("--eval-batches", type=int, default=10, help="batches per evaluation (default 10)")
    g.add_argument(
        "--checkpoint-every",
        type=int,
        default=100,
        help="save a checkpoint every this many steps (default 100)",
    )
    g.add_argument(
        "--sample-prompt", default="The", help="text continued greedily at each evaluation ('' turns it off)"
    )
    g.add_argument("--sample-tokens", type=int, default=20, help="tokens generated per sample (default 20)")
    g.add_argument(
        "--device",
        default=None,
        help="cpu, cuda, mps (default: the best available; one GPU per rank under torchrun)",
    )
    g.add_argument(
        "--threads", type=int, default=None, help="CPU threads per process (default: PyTorch's choice)"
    )
    g.add_argument(
        "--no-progress", action="store_true", help="no progress bar (logs still go to OUT_DIR/log.jsonl)"
    )
    return p


def typed_options(argv: list[str] | None) -> set[str]:
    """The options (by ``dest`` name) written on the command line, as opposed to left at their defaults.

    >>> sorted(typed_options(["text.txt", "--out-dir", "runs/x", "--lr", "1e-3"]))
    ['data', 'lr', 'out_dir']
    """
    parser = build_parser()
    for action in parser._actions:  # argparse has no public way to ask which options were given
        action.default = argparse.SUPPRESS
    return set(vars(parser.parse_args(argv)))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.typed = typed_options(argv)
    for name in (
        "batch_size",
        "epochs",
        "max_steps",
        "eval_every",
        "eval_batches",
        "checkpoint_every",
        "stride",
        "threads",
    ):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, got {value}")
    if not 0.0 <= args.val_fraction < 1.0:
        parser.error(f"--val-fraction must be in [0, 1), got {args.val_fraction}")
    if not args.lr > 0:
        parser.error(f"--lr must be positive, got {args.lr}")
    if not args.data.exists():
        parser.error(f"{args.data} does not exist: give a text file or a folder of .txt/.md files")
    if args.override_resume and not args.resume:
        parser.error("--override-resume only means something with --resume")
    if args.device is not None:
        try:
            get_device(args.device)
        except ValueError as err:
            parser.error(str(err))
    return args


def model_config(args: argparse.Namespace):
    overrides = {
        k: getattr(args, k)
        for k in ("context_length", "emb_dim", "n_heads", "n_layers", "drop_rate")
        if getattr(args, k) is not None
    }
    return PRESETS[args.model].with_(**overrides)


def run(args: argparse.Namespace) -> History:
    """Train as the options say; returns the ``History`` (on every rank)."""
    resume_from = args.out_dir / CHECKPOINT
    if args.resume and resume_from.is_file():
        taken = take_saved_options(args, checkpoint_extra(resume_from).get("options", {}))
        if taken:
            distributed.print0(f"--resume: the run's saved settings: {', '.join(taken)}")
    if args.threads:
        torch.set_num_threads(args.threads)
    ctx = distributed.setup(get_device(args.device) if args.device else None)
    cfg = model_config(args)
    seed_everything(args.seed)  # the same initial weights on every rank
    train_loader, val_loader, n_train, n_val = make_loaders(args, cfg.context_length, ctx)
    model = GPTModel(cfg).to(ctx.device)
    core = model
    if ctx.world_size > 1:
        model = DDP(model, device_ids=[ctx.device.index] if ctx.device.type == "cuda" else None)
    optimizer = torch.optim.AdamW(core.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    steps_per_epoch = len(train_loader)
    total = (
        args.epochs * steps_per_epoch
        if args.max_steps is None
        else min(args.max_steps, args.epochs * steps_per_epoch)
    )
    warmup = args.warmup_steps if args.warmup_steps is not None else max(1, total // 20)
    schedule = WarmupCosine(
        max_lr=args.lr,
        warmup_steps=min(warmup, total),
        total_steps=total,
        min_lr=args.lr / 10 if args.min_lr is None else args.min_lr,
    )
    if args.precision == "auto":
        choice = choose_precision(ctx.device)
    else:
        choice = PrecisionChoice(
            torch.bfloat16 if args.precision == "bf16" else None, f"--precision {args.precision}"
        )

    args.out_dir.mkdir(parents=True, exist_ok=True)
    ckpt_path = resume_from
    log_path = args.out_dir / "log.jsonl"
    options = run_options(args, world_size=ctx.world_size, train_tokens=n_train)
    if ctx.is_main:
        for name in OUTPUTS:
            for part in remove_stale_parts(args.out_dir / name):
                distributed.print0(f"removed {part.name}, left by a save that was killed")
    history = None
    if args.resume and ckpt_path.is_file():
        differ = resume_mismatch(checkpoint_extra(ckpt_path).get("options", {}), options)
        if differ and not args.override_resume:
            raise ValueError(
                f"--resume: {ckpt_path} was saved with other settings ({'; '.join(differ)}); continuing "
                "would reinterpret its position. Use the saved values, or pass --override-resume"
            )
        if differ:
            distributed.print0(f"--override-resume: continuing with new settings ({'; '.join(differ)})")
        restored = load_checkpoint(ckpt_path, core, optimizer)
        history = restored.history
        distributed.print0(f"resumed from {ckpt_path} at step {history.position.step}")
        if ctx.is_main:
            dropped = trim_log(log_path, history.position.step)
            if dropped:
                distributed.print0(f"log.jsonl: dropped {dropped} line(s) logged after the checkpoint's step")
    elif args.resume:
        distributed.print0(f"--resume: no {ckpt_path} yet, starting fresh")

    distributed.print0(
        f"{cfg.n_layers} layers x {cfg.emb_dim} dims, context {cfg.context_length} | {n_train:,} training and {n_val:,} "
        f"validation tokens | {ctx.world_size} process(es) on {ctx.device}, global batch "
        f"{args.batch_size * ctx.world_size} x {cfg.context_length} tokens | {steps_per_epoch} steps/epoch | {choice}"
    )
    if ctx.is_main and history is None:
        write_text_atomically(log_path, "")  # a fresh run starts a fresh log

    def on_step(_model, opt, hist: History) -> None:
        pos = hist.position
        if not ctx.is_main:
            return
        with open(log_path, "a", encoding="utf-8") as f:
            f.write(
                json.dumps(
                    {
                        "step": pos.step,
                        "loss": hist.step_losses[-1],
                        "lr": hist.lrs[-1],
                        "tokens": pos.tokens_seen,
                    }
                )
                + "\n"
            )
        if pos.step % args.checkpoint_every == 0:
            save_checkpoint(ckpt_path, core, opt, history=hist, schedule=schedule, extra={"options": options})

    sample = None
    if args.sample_prompt:
        enc = gpt2_encoding()
        prompt = torch.tensor([enc.encode(args.sample_prompt, allowed_special={ENDOFTEXT})])

        def sample(m) -> str:
            return enc.decode(generate(core, prompt, args.sample_tokens)[0, prompt.shape[1] :].tolist())

    history = train(
        model,
        optimizer,
        train_loader,
        val_loader=val_loader,
        epochs=args.epochs,
        max_steps=args.max_steps,
        eval_every=args.eval_every,
        eval_batches=args.eval_batches,
        sample=sample,
        lr_schedule=schedule,
        grad_clip=args.grad_clip or None,
        autocast_dtype=choice.dtype,
        device=ctx.device,
        history=history,
        on_step=on_step,
        progress=not args.no_progress,
        desc=f"pretraining ({ctx.world_size} proc)",
    )
    if ctx.is_main:
        save_checkpoint(
            ckpt_path, core, optimizer, history=history, schedule=schedule, extra={"options": options}
        )
        save_weights(args.out_dir / "model.safetensors", core)
        write_text_atomically(args.out_dir / "config.json", json.dumps(dataclasses.asdict(cfg), indent=2))
        write_text_atomically(args.out_dir / "history.json", json.dumps(history.to_dict()))
        tokens_per_s = history.position.tokens_seen / max(history.seconds, 1e-9)
        print(
            f"done: {history.position.step} steps, {history.position.tokens_seen:,} tokens in {history.seconds:.1f} s "
            f"({tokens_per_s:,.0f} tokens/s); train loss {history.train_losses[-1]:.3f}, val loss {history.val_losses[-1]:.3f}",
            flush=True,
        )
    distributed.barrier()
    return history


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    try:
        run(args)
    except (
        ValueError,
        CheckpointError,
        OSError,
    ) as err:  # bad data, files or settings: one clear line, no traceback
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    finally:
        distributed.teardown()


if __name__ == "__main__":
    main()
    distributed.exit_process(0)
