"""Resuming a pretraining run safely: the run's settings are stored, compared and, if not typed, reused.

A checkpoint's position (step, epoch, batch) only means something under the settings that produced
it. ``run_options`` is what a checkpoint stores; on ``--resume``, ``take_saved_options`` gives every
option the user did not type again its saved value, ``resume_mismatch`` names the typed ones that
would change the run (``RESUME_FREE`` lists those that only change how it is watched), and
``trim_log`` cuts ``log.jsonl`` back to the checkpoint's step so each step is logged once.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..fileio import atomic_write

# Options that may differ on --resume: where and how the run is watched, not what it computes.
RESUME_FREE = frozenset(
    {
        "resume",
        "override_resume",
        "out_dir",
        "device",
        "threads",
        "no_progress",
        "eval_every",
        "eval_batches",
        "checkpoint_every",
        "sample_prompt",
        "sample_tokens",
    }
)


def run_options(args: argparse.Namespace, **facts) -> dict:
    """The run's settings as stored in its checkpoints: every option (the corpus as an absolute path) plus ``facts``."""
    options = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items() if k != "typed"}
    options["data"] = str(Path(args.data).resolve())
    return options | facts


def resume_mismatch(saved: dict, current: dict) -> list[str]:
    """``"name: saved -> now"`` for each option that changes the run (not in ``RESUME_FREE``) and differs.

    An option the checkpoint does not record (an older version wrote it) is not compared.

    >>> resume_mismatch({"lr": 4e-4, "batch_size": 4, "eval_every": 50}, {"lr": 1e-3, "batch_size": 4, "eval_every": 10})
    ['lr: 0.0004 -> 0.001']
    """
    return [
        f"{k}: {saved[k]!r} -> {current[k]!r}"
        for k in sorted(set(saved) & set(current))
        if k not in RESUME_FREE and saved[k] != current[k]
    ]


def trim_log(log_path: Path, step: int) -> int:
    """Keep the lines of ``log.jsonl`` up to ``step`` (a resumed run logs the later ones again); return how many went.

    A line cut off by the kill that ended the run is dropped too. The file is rewritten atomically.
    """
    if not log_path.is_file():
        return 0
    kept, dropped = [], 0
    for line in log_path.read_text(encoding="utf-8").splitlines():
        try:
            keep = json.loads(line)["step"] <= step
        except (ValueError, KeyError, TypeError):
            keep = False
        kept += [line] if keep else []
        dropped += not keep
    if dropped:
        write_text_atomically(log_path, "".join(line + "\n" for line in kept))
    return dropped


def write_text_atomically(path: Path, text: str) -> None:
    with atomic_write(path, "w", encoding="utf-8") as f:
        f.write(text)


def take_saved_options(args: argparse.Namespace, saved: dict) -> list[str]:
    """With ``--resume``: every option that changes the run and was not typed takes its saved value.

    Returns ``"name=value"`` for each option taken, to say so. ``args.typed`` lists what was typed.

    >>> args = argparse.Namespace(data=Path("t.txt"), lr=4e-4, epochs=1, device=None, typed={"data"})
    >>> take_saved_options(args, {"lr": 1e-3, "epochs": 3, "device": "cuda", "world_size": 2}), args.lr, args.epochs
    (['epochs=3', 'lr=0.001'], 0.001, 3)
    """
    taken = []
    for name in sorted(set(saved) & set(vars(args)) - RESUME_FREE - getattr(args, "typed", set())):
        value = Path(saved[name]) if isinstance(getattr(args, name), Path) else saved[name]
        if value != getattr(args, name):
            setattr(args, name, value)
            taken.append(f"{name}={saved[name]}")
    return taken
