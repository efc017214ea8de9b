"""Run the benchmark scripts, keep their outputs, and write ``benchmarks/README.md`` from them.

    python benchmarks/run_all.py --write-readme                     # every script, default sizes
    python benchmarks/run_all.py --scripts training.py --args training.py="--threads 1 --clock cpu --nanogpt ../nanoGPT"
    python benchmarks/run_all.py --readme-only                      # rebuild the README from saved outputs
    python benchmarks/run_all.py --tiny                             # smoke run of every script, nothing saved

Each script's full output goes to ``benchmarks/results/<script>.txt``, headed by the exact command
and the date; ``--write-readme`` then rebuilds the README from *all* saved outputs (so scripts run
at different times each keep their own header). The README's summary table is extracted from those
outputs by the patterns in ``SUMMARY`` below and is never edited by hand.
"""

from __future__ import annotations

import argparse
import datetime
import re
import shlex
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
BOUNDS = (
    HERE / "bounds.md"
)  # the README's section on missed targets, written from profile_generation.py's output
SCRIPTS = [
    "training.py",
    "generation.py",
    "profile_generation.py",
    "attention.py",
    "bpe.py",
    "dataset_memory.py",
]

# (script, what, regex whose first group is the value, target) -> one row of the README summary each.
# A pattern may match several times (e.g. one training configuration after another): one row per match,
# labelled by its named group "label" if it has one, else by the nearest preceding "=== name" header.
SUMMARY = [
    (
        "training.py",
        "tokens/s, ours / transformers (eager fp32)",
        r"^transformers\s+\d.*?(\d+\.\d+x)\s*$",
        ">= 1.10x",
    ),
    ("training.py", "tokens/s, ours / nanoGPT (eager fp32)", r"^nanoGPT\s+\d.*?(\d+\.\d+x)\s*$", "> 1.00x"),
    (
        "training.py",
        "ours achieved FLOP/s, % of measured fp32 matmul peak",
        r"^ours\s+\d\S*\s+\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+(\S+%)",
        "report",
    ),
    (
        "training.py",
        "torch.compile'd ours / eager ours (compile time apart)",
        r"compiled / eager ours: (\d+\.\d+x)",
        "report",
    ),
    (
        "training.py",
        "torch.compile time (first step)",
        r"torch.compile: first step .*? took (\S+ s)",
        "report",
    ),
    ("training.py", "bf16 autocast / fp32 speed, ours", r"bf16 autocast vs fp32, ours: (\S+x)", "report"),
    (
        "training.py",
        "bf16 autocast / fp32 speed, transformers",
        r"bf16 autocast vs fp32, transformers: (\S+x)",
        "report",
    ),
    (
        "training.py",
        "peak step memory, ours vs transformers",
        r"peak memory of a training step: (ours \d+ MiB .*?transformers \d+ MiB)",
        "ours <= transformers",
    ),
    (
        "generation.py",
        "cached tokens/s, ours / transformers",
        r"ours / transformers \(KV cache, tokens/s\): (\S+x)",
        ">= 1.10x",
    ),
    (
        "generation.py",
        "ours cached / ours uncached",
        r"KV cache speed-up \(ours, cached / uncached\): (\S+x)",
        ">= 5x",
    ),
    (
        "generation.py",
        "ours cached, % of the bandwidth bound",
        r"^ours, KV cache\s+\S+ tokens/s\s+\(\s*(\S+%)",
        "report",
    ),
    (
        "generation.py",
        "identical tokens (all variants)",
        r"identical tokens from all \d+ variants: (\w+)",
        "True",
    ),
    (
        "generation.py",
        "batched tokens/s, ours / transformers",
        r"^batch (?P<label>\d+): ours / transformers \(batched generate, tokens/s\): (?P<value>\S+x)",
        ">= 1.2x at batch 8",
    ),
    (
        "generation.py",
        "batched tokens/s, ours with (in, out) weights / transformers",
        r"^batch (?P<label>\d+): ours with \(in, out\) weights \(weights.layout\) / transformers: (?P<value>\S+x)",
        ">= 1.2x at batch 8",
    ),
    (
        "generation.py",
        "batched, identical tokens to transformers",
        r"^batch\s+(?P<label>\d+): ours .*identical tokens: (?P<value>\w+)",
        "True",
    ),
    (
        "generation.py",
        "int8 kernel speed vs fp32, one layer at batch 1",
        r"^  (?P<label>\S.+?)\s+\S+ us\s+(?P<value>\S+x)$",
        "report",
    ),
    (
        "generation.py",
        "int8 weights / fp32, tokens/s at batch 1",
        r"^int8 \((?P<label>[^)]+)\) / fp32 tokens/s: (?P<value>\S+x)",
        ">= 1.5x where kernels allow",
    ),
    ("generation.py", "int8 weight memory / fp32", r"^int8 \(.*?; weight memory (\S+x);", "<= 0.3x"),
    (
        "generation.py",
        "int8 (default kernel) greedy-token agreement with fp32 (128 tokens, 8 held-out prompts)",
        r"greedy-token agreement (\S+%) over",
        ">= 95%",
    ),
    (
        "generation.py",
        "automatic weight format, speed vs fp32",
        r"^automatic weight format: (.+?); its speed in the table above: (?:\S+x fp32)$",
        "report",
    ),
    (
        "generation.py",
        "automatic weight format / fp32, tokens/s",
        r"^automatic weight format: .+?; its speed in the table above: (\S+x) fp32$",
        ">= 1.00x",
    ),
    (
        "generation.py",
        "chapter 7 evaluation, batched / one by one",
        r"chapter 7 evaluation, batched / one by one \(best batch size\): (\S+x)",
        ">= 4x",
    ),
    (
        "generation.py",
        "chapter 7 evaluation, identical answers",
        r"^batch size\s+(?P<label>\d+):.*identical answers: (?P<value>\w+)",
        "True",
    ),
    (
        "profile_generation.py",
        "one linear layer, ours (out, in) / Conv1D (in, out) weight layout, speed",
        r"^  batch\s+(?P<label>\d+): ours .*?ours / Conv1D speed (?P<value>\S+x)",
        "report",
    ),
    (
        "profile_generation.py",
        "batch 8 decode step, share of time in linear ops",
        r"^batch \d+ decode step: linear share (ours \d+%, transformers \d+%); ceiling .*?: (?:\S+x)$",
        "report",
    ),
    (
        "profile_generation.py",
        "batch 8 decode step: ceiling of ours / transformers with our linear time alone",
        r"^batch \d+ decode step: .*ceiling .*?: (\S+x)$",
        "report",
    ),
    (
        "profile_generation.py",
        "decode step bound (verdict)",
        r"^  (?P<label>[\w ]+): \d+ MB per decode step.*\n    -> (?P<value>[\w-]+)",
        "report",
    ),
    (
        "profile_generation.py",
        "int8pack / fp32 at batch 1: linear ops faster by",
        r"^int8pack / fp32 at batch 1: linear ops (\S+x) faster",
        "report",
    ),
    (
        "profile_generation.py",
        "int8pack / fp32 at batch 1: what 1.5x overall needs from the linear ops",
        r"^int8pack / fp32 at batch 1: .*1.5x overall needs linear ops (.+)$",
        "report",
    ),
    (
        "profile_generation.py",
        "chapter 7 evaluation: prefill share of the batched run",
        r"^chapter 7 evaluation: prefill is (\d+%) of the batched run",
        "report",
    ),
    (
        "profile_generation.py",
        "chapter 7 evaluation: ceiling of batched / one by one with free decode steps",
        r"^chapter 7 evaluation: .*ceiling with free decode steps: (\S+x)",
        "report",
    ),
    (
        "attention.py",
        "attention fwd+bwd, teaching / sdpa (GPTModel)",
        r"^\s+(?P<label>\d+ x \d+)\s+\S+ ms\s+\S+ ms\s+(?P<value>\S+x)\s*$",
        "report",
    ),
    (
        "bpe.py",
        "encode, tiktoken / ours (cold cache, warm cache)",
        r"GPT-2 \(50,257 tokens\).*?tiktoken is (\S+x faster cold, \S+x warm)",
        "<= 1.5x",
    ),
    (
        "dataset_memory.py",
        "dataset memory, copies / views",
        r"copies / views memory ratio:?\s*(\S+)",
        "report",
    ),
]


def run(script: str, extra: list[str], tiny: bool) -> tuple[str, int]:
    cmd = [sys.executable, str(HERE / script), *(["--tiny"] if tiny else []), *extra]
    shown = "python benchmarks/" + " ".join([script, *(["--tiny"] if tiny else []), *map(shlex.quote, extra)])
    print(f"$ {shown}", flush=True)
    out = subprocess.run(cmd, capture_output=True, text=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    failed = ""
    if out.returncode != 0:  # kept all the same (a long run's output is worth reading), and marked
        print(out.stdout[-3000:], out.stderr[-3000:], sep="\n")
        failed = f"# FAILED (exit {out.returncode}); stderr ends:\n{out.stderr[-1500:]}\n"
    return f"$ {shown}\n# run {stamp}\n{failed}{out.stdout}", out.returncode


def summary_rows(script: str, text: str) -> list[tuple[str, str, str, str]]:
    rows = []
    for s, what, pattern, target in SUMMARY:
        if s != script:
            continue
        for m in re.finditer(pattern, text, flags=re.MULTILINE):
            header = None
            for h in re.finditer(r"^=== (\S+?):", text[: m.start()], flags=re.MULTILINE):
                header = h.group(1)
            named = (
                m.groupdict()
            )  # a pattern may name its value and a label (e.g. the batch x length of that row)
            label = named.get("label") or header
            rows.append(
                (script, what + (f" [{label}]" if label else ""), named.get("value") or m.group(1), target)
            )
    if script == "training.py":  # derived: compiled ours against eager transformers, from the s/step column
        for section in re.split(r"^(?==== )", text, flags=re.MULTILINE):
            step = dict(
                re.findall(r"^(ours compiled|transformers)\s+(\d+\.\d+)", section, flags=re.MULTILINE)
            )
            if len(step) == 2:
                name = re.match(r"=== (\S+?):", section)
                rows.append(
                    (
                        script,
                        "tokens/s, torch.compile'd ours / eager transformers"
                        + (f" [{name.group(1)}]" if name else ""),
                        f"{float(step['transformers']) / float(step['ours compiled']):.2f}x",
                        ">= 1.25x",
                    )
                )
    return rows


def write_readme(path: Path = HERE / "README.md") -> Path:
    outputs = {
        p.stem: p.read_text() for p in sorted(RESULTS.glob("*.txt"))
    }  # "training", "training-compile", ...
    lines = [
        "# Benchmarks",
        "",
        "Written by `python benchmarks/run_all.py --write-readme` from the saved outputs in `results/`;",
        "do not edit by hand. Every number is a ratio measured within one run of one script (interleaved",
        "rounds, medians), so it can be compared across machines more safely than the absolute times,",
        "which depend on the machine and on what else it was running (load average in each output).",
        "",
        "| script | measurement | result | target |",
        "| --- | --- | --- | --- |",
    ]

    def runs(script: str) -> list[str]:
        stem = Path(script).stem
        return [name for name in outputs if name == stem or name.startswith(stem + "-")]

    for script in SCRIPTS:
        for name in runs(script):
            failed = re.search(r"^# FAILED \(exit (\d+)\)", outputs[name], flags=re.MULTILINE)
            if failed:  # the rows below still come from what it printed before failing
                lines.append(
                    f"| `{name}` | the run itself | FAILED (exit {failed.group(1)}; see its output) | exit 0 |"
                )
            for _, what, value, target in summary_rows(script, outputs[name]):
                lines.append(f"| `{name}` | {what} | {value} | {target} |")
    if (
        BOUNDS.exists()
    ):  # hand-written: what the profile says bounds each missed target (numbers from its output)
        lines += ["", BOUNDS.read_text().rstrip()]
    for script in SCRIPTS:
        for name in runs(script):
            lines += ["", f"## {name}", "", "```", outputs[name].rstrip(), "```"]
    path.write_text("\n".join(lines) + "\n")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scripts", nargs="+", default=SCRIPTS, choices=SCRIPTS)
    parser.add_argument(
        "--args",
        nargs="*",
        default=[],
        metavar="SCRIPT=ARGS",
        help='extra arguments for one script, e.g. training.py="--threads 1 --clock cpu"',
    )
    parser.add_argument(
        "--tiny", action="store_true", help="smoke run: every script with --tiny; outputs not saved"
    )
    parser.add_argument(
        "--label",
        default=None,
        help="save as results/<script>-<label>.txt (a second run of a script with other options)",
    )
    parser.add_argument(
        "--write-readme", action="store_true", help="rebuild README.md from every saved output"
    )
    parser.add_argument("--readme-only", action="store_true", help="run nothing; rebuild README.md")
    parser.add_argument("--readme", type=Path, default=HERE / "README.md", help="where to write the README")
    args = parser.parse_args()
    extra: dict[str, list[str]] = {}
    for item in args.args:
        script, _, rest = item.partition("=")
        if script not in SCRIPTS:
            parser.error(f"--args: unknown script {script!r}; choose from {SCRIPTS}")
        extra[script] = shlex.split(rest)
    failed = []
    if not args.readme_only:
        RESULTS.mkdir(exist_ok=True)
        for script in args.scripts:
            text, returncode = run(script, extra.get(script, []), args.tiny)
            rows = summary_rows(script, text)
            for _, what, value, target in rows:
                print(f"  {what}: {value} (target {target})")
            if not args.tiny:
                label = f"-{args.label}" if args.label else ""
                (RESULTS / f"{Path(script).stem}{label}.txt").write_text(text)
            if returncode:
                failed.append(f"{script} (exit {returncode})")
    if args.write_readme or args.readme_only:
        print(f"wrote {write_readme(args.readme)}")
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)} (output saved and marked FAILED)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
