"""Training speed of our GPT against HuggingFace ``transformers`` GPT-2 and nanoGPT, in one run.

    python benchmarks/training.py                                # 124M batch 2 and 8, 6 layers x 384 batch 8
    python benchmarks/training.py --configs 124M-b2 --nanogpt /path/to/nanoGPT
    python benchmarks/training.py --compile                      # also torch.compile'd ours (compile time apart)
    python benchmarks/training.py --bf16                         # bf16 autocast vs fp32, ours and transformers
    python benchmarks/training.py --profile                      # where a step's time goes, by operator
    python benchmarks/training.py --tiny                         # a smoke run: tiny models, 2 rounds

One *step* is what every training loop does: forward, cross-entropy over every position, backward,
AdamW update. The three models are the same network (GPT-2: pre-norm blocks, tanh-GELU MLP,
learned positions, tied embeddings, vocabulary 50,257, context 1024, dropout 0), built from a config
with random weights (nothing is downloaded), fed the same random tokens (sequence length 256),
and updated by the same optimizer (``torch.optim.AdamW``, fused where PyTorch has a fused kernel
for the device, else its default), so the measured difference is the model code. The
cross-entropy is computed the same way for ``transformers`` as for ours (``F.cross_entropy`` on
``.logits``, no shifting copy); nanoGPT computes it inside its forward. transformers runs with
``use_cache=False`` (no key/value cache built during training).

Timing: the models run in turn, one step each per round (A, B, C, then B, C, A, ...), ``--rounds``
rounds after ``--warmup`` untimed steps each; each model's step time is the median over rounds.
Load from other processes on a shared machine then hits every model alike, and the *ratios*
(``tokens/s ours / tokens/s theirs``, > 1 = ours faster) are what to read.

Also printed, per configuration:
- the median time of each phase (forward + loss, backward, optimizer step) of the same steps;
- achieved FLOP/s against this machine's measured float32 matmul peak (``_harness.matmul_peak_flops``),
  with FLOPs per step = ``6 * N * tokens + 12 * n_layers * T * emb_dim * tokens``: ``N`` counts
  the parameters that take part in matrix multiplies (all but the position table; the tied
  token table counts once, as the output layer), 6 = 2 (multiply-add) x 3 (forward, and backward
  for inputs and weights), and the second term is attention's ``QK^T`` and ``AV`` products
  (``T`` = sequence length; counted in full although the causal half could be skipped);
- ``--memory`` (on by default for full runs on Linux): peak resident memory of a training step,
  each model in a fresh process (glibc returning large blocks to the OS at once, ``VmHWM`` reset through ``/proc/self/clear_refs`` after two
  steps, so the parameters, gradients and AdamW state are already there; the figure is the step's
  peak minus the memory before it, and the process total).

nanoGPT is not on PyPI: point ``--nanogpt`` at a checkout of karpathy/nanoGPT (a folder holding its
``model.py``, or a git directory whose HEAD has one); without it the column says "not available".
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from dataclasses import dataclass, replace
from pathlib import Path

import _harness as H  # noqa: F401  (puts shared/ on sys.path)
import torch
import torch.nn.functional as F

from llmscratch.model.config import GPT2_124M, GPTConfig  # noqa: E402
from llmscratch.model.gpt import GPTModel  # noqa: E402

SEQ_LEN = 256
CLOCK = time.perf_counter  # --clock cpu switches to time.process_time


@dataclass(frozen=True)
class Setting:
    n_layers: int
    emb_dim: int
    n_heads: int
    batch: int
    seq_len: int = SEQ_LEN

    def cfg(self) -> GPTConfig:
        return GPT2_124M.with_(
            n_layers=self.n_layers, emb_dim=self.emb_dim, n_heads=self.n_heads, drop_rate=0.0
        )


SETTINGS = {
    "124M-b2": Setting(12, 768, 12, 2),
    "124M-b8": Setting(12, 768, 12, 8),
    "6x384-b8": Setting(6, 384, 6, 8),
}
TINY_SETTINGS = {"tiny-b2": Setting(2, 64, 4, 2, seq_len=32)}


def settings_table(tiny: bool) -> dict[str, Setting]:
    """The configs --configs can name. Under --tiny a full-size name is accepted too and shrunk to the
    tiny model with its own batch size, so any documented command runs as a smoke test with --tiny."""
    if not tiny:
        return SETTINGS
    return {
        **{n: replace(TINY_SETTINGS["tiny-b2"], batch=s.batch) for n, s in SETTINGS.items()},
        **TINY_SETTINGS,
    }


# --- the models --------------------------------------------------------------------------------


def load_nanogpt(path: str | None):
    """nanoGPT's ``model`` module from a checkout (folder with model.py, or a git dir), or None."""
    if not path:
        return None
    folder = Path(path)
    if not (folder / "model.py").exists():
        out = subprocess.run(
            ["git", "--git-dir", str(folder), "show", "HEAD:model.py"], capture_output=True, text=True
        )
        if out.returncode != 0:
            print(f"(--nanogpt {path}: no model.py there and not a git directory with one)")
            return None
        folder = Path(tempfile.mkdtemp(prefix="nanogpt_"))
        (folder / "model.py").write_text(out.stdout)
    sys.path.insert(0, str(folder))
    try:
        import model as nanogpt_model  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    return nanogpt_model


def build(name: str, s: Setting, nanogpt=None):
    """``(model, loss_fn)`` for one implementation; ``loss_fn(x, y)`` returns the mean cross-entropy."""
    cfg = s.cfg()
    torch.manual_seed(0)
    if name == "ours":
        model = GPTModel(cfg)
        return model, lambda x, y: F.cross_entropy(model(x).flatten(0, 1), y.flatten())
    if name == "transformers":
        import transformers

        from llmscratch.weights.gpt2 import hf_config_kwargs

        model = transformers.GPT2LMHeadModel(transformers.GPT2Config(**hf_config_kwargs(cfg)))
        return model, lambda x, y: F.cross_entropy(
            model(input_ids=x, use_cache=False).logits.flatten(0, 1), y.flatten()
        )
    if name == "nanoGPT":
        import contextlib
        import io

        conf = nanogpt.GPTConfig(
            block_size=cfg.context_length,
            vocab_size=cfg.vocab_size,
            n_layer=cfg.n_layers,
            n_head=cfg.n_heads,
            n_embd=cfg.emb_dim,
            dropout=0.0,
            bias=True,
        )
        with contextlib.redirect_stdout(io.StringIO()):  # it prints its parameter count
            model = nanogpt.GPT(conf)
        return model, lambda x, y: model(x, y)[1]
    raise ValueError(name)


def make_optimizer(model: torch.nn.Module, device: torch.device) -> torch.optim.Optimizer:
    """AdamW, fused where PyTorch has the kernel for this device (CPU and CUDA in recent versions)."""
    try:
        return torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.1, fused=True)
    except (RuntimeError, ValueError):
        return torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.1)


class Stepper:
    """One model's training step, recording how long each phase took (forward+loss, backward, optimizer)."""

    def __init__(self, model, loss_fn, s: Setting, device, autocast_dtype=None):
        self.model, self.loss_fn, self.device = model.to(device).train(), loss_fn, device
        self.opt = make_optimizer(model, device)
        g = torch.Generator().manual_seed(1)
        vocab = GPT2_124M.vocab_size
        self.x = torch.randint(0, vocab, (s.batch, s.seq_len), generator=g).to(device)
        self.y = torch.randint(0, vocab, (s.batch, s.seq_len), generator=g).to(device)
        self.autocast = (
            (lambda: torch.autocast(device.type, dtype=autocast_dtype)) if autocast_dtype else nullcontext
        )
        self.phases: dict[str, list[float]] = {"forward": [], "backward": [], "optimizer": []}
        self.last_loss = float("nan")

    def __call__(self) -> None:
        t0 = CLOCK()
        self.opt.zero_grad(set_to_none=True)
        with self.autocast():
            loss = self.loss_fn(self.x, self.y)
        H.sync(self.device)
        t1 = CLOCK()
        loss.backward()
        H.sync(self.device)
        t2 = CLOCK()
        self.opt.step()
        H.sync(self.device)
        t3 = CLOCK()
        for k, v in zip(self.phases, (t1 - t0, t2 - t1, t3 - t2)):
            self.phases[k].append(v)
        self.last_loss = loss.item()


def matmul_params(model: torch.nn.Module) -> int:
    """Parameters taking part in matrix multiplies: all but position tables (each shared tensor once)."""
    n = sum(p.numel() for p in model.parameters())
    for name, module in model.named_modules():
        if name.endswith(("pos_emb", "wpe")):
            n -= module.weight.numel()
    return n


def flops_per_step(n_params: int, s: Setting) -> float:
    tokens = s.batch * s.seq_len
    cfg = s.cfg()
    return 6 * n_params * tokens + 12 * cfg.n_layers * s.seq_len * cfg.emb_dim * tokens


# --- memory (one fresh process per model) ------------------------------------------------------


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def memory_child(name: str, setting_name: str, nanogpt_path: str | None, tiny: bool) -> None:
    s = settings_table(tiny)[setting_name]
    model, loss_fn = build(name, s, load_nanogpt(nanogpt_path))
    step = Stepper(model, loss_fn, s, torch.device("cpu"))
    step(), step()  # gradients and AdamW state now exist
    before = _status_kib("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak (VmHWM) to the current RSS
    step()
    peak = _status_kib("VmHWM")
    print(json.dumps({"before_mib": before / 1024, "peak_mib": peak / 1024}))


def peak_memory(name: str, setting_name: str, args) -> dict | None:
    cmd = [
        sys.executable,
        __file__,
        "--memory-child",
        name,
        setting_name,
        "--threads",
        str(torch.get_num_threads()),
    ]
    if args.nanogpt:
        cmd += ["--nanogpt", args.nanogpt]
    if args.tiny:
        cmd.append("--tiny")
    # Large blocks straight from (and back to) the OS, so the resident size follows live tensors.
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536"}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        print(f"(memory of {name}: child failed: {out.stderr.strip().splitlines()[-1:]})")
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- main --------------------------------------------------------------------------------------


def profile_ops(steppers: dict[str, Stepper], top: int = 12) -> None:
    """Top operators by self CPU time of one step, for each model."""
    from torch.profiler import ProfilerActivity, profile

    for name, step in steppers.items():
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            step()
        print(f"\n--- profile of one step: {name} (self CPU time; ms over both phases) ---")
        print(
            prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=top, max_name_column_width=48)
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--configs", nargs="+", default=None, help=f"from {sorted(SETTINGS)} (default: all)")
    parser.add_argument("--tiny", action="store_true", help="smoke run: a tiny model, few rounds")
    parser.add_argument("--rounds", type=int, default=None, help="timed rounds (default 5, tiny 2)")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="wall-clock time (default) or this process's CPU time (steadier under load; 1 thread)",
    )
    parser.add_argument("--nanogpt", default=None, help="path to a karpathy/nanoGPT checkout or git dir")
    parser.add_argument("--no-transformers", action="store_true")
    parser.add_argument(
        "--compile",
        action="store_true",
        help="also time torch.compile(ours); compile time reported apart (--tiny: the aot_eager backend)",
    )
    parser.add_argument(
        "--bf16", action="store_true", help="also time bf16 autocast for ours and transformers"
    )
    parser.add_argument(
        "--profile", action="store_true", help="print the top operators of one step per model"
    )
    parser.add_argument(
        "--memory",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="peak step memory per model in fresh processes (default: on, Linux, not --tiny)",
    )
    parser.add_argument("--json", default=None, help="write the results as JSON here (for run_all.py)")
    parser.add_argument("--memory-child", nargs=2, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    if args.memory_child:
        memory_child(*args.memory_child, args.nanogpt, args.tiny)
        return 0

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    table = settings_table(args.tiny)
    names = args.configs or list(TINY_SETTINGS if args.tiny else SETTINGS)
    unknown = [n for n in names if n not in table]
    if unknown:
        parser.error(
            f"unknown --configs {unknown}; choose from {sorted(SETTINGS)} (or {sorted(TINY_SETTINGS)} with --tiny)"
        )
    rounds = args.rounds or (2 if args.tiny else 5)
    warmup = 1 if args.tiny else args.warmup
    memory = (
        args.memory
        if args.memory is not None
        else (not args.tiny and sys.platform == "linux" and device.type == "cpu")
    )

    print(H.machine_info("float32" + (" and bf16 autocast" if args.bf16 else "")))
    print(f"clock: {'process CPU time' if args.clock == 'cpu' else 'wall-clock time'}")
    peak = H.matmul_peak_flops(n=512 if args.tiny else 2048, clock=CLOCK)
    print(f"measured float32 matmul peak: {peak / 1e9:.1f} GFLOP/s ({torch.get_num_threads()} threads)")
    nanogpt = load_nanogpt(args.nanogpt)
    implementations = ["ours"]
    if not args.no_transformers:
        try:
            import transformers

            implementations.append("transformers")
            print(f"transformers {transformers.__version__}")
        except ImportError:
            print("transformers: not installed")
    if nanogpt is not None:
        implementations.append("nanoGPT")
        print(f"nanoGPT: model.py from {args.nanogpt}")
    else:
        print("nanoGPT: not available (not on PyPI; pass --nanogpt PATH to a checkout of karpathy/nanoGPT)")
    opt_kind = (
        "fused"
        if make_optimizer(torch.nn.Linear(1, 1), device).defaults.get("fused")
        else "default (foreach)"
    )
    print(
        f"step = forward + cross-entropy + backward + AdamW ({opt_kind}); sequence length "
        f"{table[names[0]].seq_len}; {rounds} interleaved rounds after {warmup} warm-up steps, medians\n"
    )

    results: dict = {"machine": H.machine_info(), "peak_flops": peak, "configs": {}}
    for setting_name in names:
        s = table[setting_name]
        print(
            f"=== {setting_name}: {s.n_layers} layers x {s.emb_dim}, {s.n_heads} heads, batch {s.batch} x {s.seq_len} tokens "
            f"| load average {H.load_average()} ==="
        )
        steppers: dict[str, Stepper] = {}
        for impl in implementations:
            model, loss_fn = build(impl, s, nanogpt)
            steppers[impl] = Stepper(model, loss_fn, s, device)
            if args.bf16 and impl in ("ours", "transformers"):
                model16, loss16 = build(impl, s, nanogpt)
                steppers[f"{impl} bf16"] = Stepper(model16, loss16, s, device, autocast_dtype=torch.bfloat16)
        compile_seconds = None
        if args.compile:
            model, _ = build("ours", s)
            # --tiny checks the plumbing only: dynamo and AOT autograd trace as for real, but no C++ is
            # generated and compiled (inductor needs minutes even for a tiny model on a busy CPU).
            compiled = torch.compile(model, backend="aot_eager" if args.tiny else "inductor")
            steppers["ours compiled"] = Stepper(
                model,
                lambda x, y, compiled=compiled: F.cross_entropy(compiled(x).flatten(0, 1), y.flatten()),
                s,
                device,
            )
            start = time.perf_counter()
            steppers["ours compiled"]()  # compiles forward and backward
            compile_seconds = time.perf_counter() - start
        times = H.interleaved(steppers, rounds=rounds, warmup=warmup, device=device, clock=CLOCK)
        med = {k: H.median(v) for k, v in times.items()}
        tokens = s.batch * s.seq_len
        n_params = matmul_params(steppers["ours"].model)
        flops = flops_per_step(n_params, s)
        width = max(map(len, steppers)) + 2
        print(
            f"{'':<{width}}{'s/step':>9}{'tokens/s':>10}{'fwd+loss':>10}{'backward':>10}{'optim':>8}"
            f"{'GFLOP/s':>9}{'% peak':>8}{'ours faster by':>16}"
        )
        for impl, step in steppers.items():
            ph = {k: H.median(v[-rounds:]) for k, v in step.phases.items()}
            ratio = med[impl] / med["ours"]
            print(
                f"{impl:<{width}}{med[impl]:>9.3f}{tokens / med[impl]:>10.0f}{ph['forward']:>10.3f}{ph['backward']:>10.3f}"
                f"{ph['optimizer']:>8.3f}{flops / med[impl] / 1e9:>9.1f}{100 * flops / med[impl] / peak:>7.1f}%"
                f"{'' if impl == 'ours' else f'{ratio:.2f}x':>16}"
            )
        print(
            f"FLOPs per step = 6*N*tokens + 12*L*T*C*tokens = 6*{n_params:,}*{tokens} + 12*{s.n_layers}*{s.seq_len}*{s.emb_dim}*{tokens}"
            f" = {flops / 1e12:.3f} TFLOP"
        )
        losses = {k: round(v.last_loss, 3) for k, v in steppers.items()}
        print(f"last losses (sanity, same data): {losses}")
        if compile_seconds is not None:
            print(
                f"torch.compile: first step (compiling forward and backward) took {compile_seconds:.1f} s; "
                f"compiled / eager ours: {med['ours'] / med['ours compiled']:.2f}x"
            )
        if args.bf16:
            for impl in ("ours", "transformers"):
                if f"{impl} bf16" in med:
                    print(f"bf16 autocast vs fp32, {impl}: {med[impl] / med[f'{impl} bf16']:.2f}x the speed")
        entry = {
            "s_per_step": med,
            "tokens": tokens,
            "flops": flops,
            "compile_seconds": compile_seconds,
            "phases": {
                k: {p: H.median(v[-rounds:]) for p, v in st.phases.items()} for k, st in steppers.items()
            },
            "load": H.load_average(),
        }
        if args.profile:
            profile_ops({k: steppers[k] for k in steppers if k in ("ours", "transformers", "nanoGPT")})
        del steppers
        if memory:
            mem = {impl: peak_memory(impl, setting_name, args) for impl in implementations}
            cells = ", ".join(
                f"{k} {v['peak_mib'] - v['before_mib']:.0f} MiB during the step (process peak {v['peak_mib']:.0f} MiB)"
                for k, v in mem.items()
                if v
            )
            print(f"peak memory of a training step: {cells}")
            entry["memory"] = mem
        results["configs"][setting_name] = entry
        print()
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
