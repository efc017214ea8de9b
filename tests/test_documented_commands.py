"""Every command the documentation tells a reader to type runs, at a tiny size, under test.

Commands are collected from the documentation, never listed here: every ``README.md`` (the root and
one folder down, so ``benchmarks/README.md`` too) and every notebook's markdown cells. A command is a
line of a code block (fenced, or indented by four spaces), or an inline ``code span``, that starts with
``python``, ``python3`` or ``torchrun`` (a ``$`` prompt and a trailing ``# comment`` are dropped).
The same command written in several places runs once; its test id names the first place.

Each runs in a subprocess, offline, with a fresh cache folder (``LLMSCRATCH_HOME``) and a working
folder per document (so ``--out-dir runs/mine`` lands in a temporary folder and a later ``--resume``
finds it), with this checkout's package first on ``PYTHONPATH``. Tiny mode is the command as written
plus its program's entry in ``RECIPES`` (appended options win over earlier ones in argparse):

- a benchmark script gets ``--tiny`` and must print the line its full run prints;
- the pretraining CLI gets a 1-layer, 16-wide model, context 16 and 2 steps;
- ``torchrun`` runs as ``python -m torch.distributed.run`` on loopback at a free port, with at most
  2 processes (CPU, gloo);
- the chat reads one message from stdin, then end-of-file;
- a program named without arguments in prose (``python -m llmscratch.pretrain``) must answer ``--help``.

What a documented command reads but a reader brings (``my_texts/``, the chat checkpoint chapter 7
saves under ``~/.cache/llmscratch``) is made by ``INPUTS``. A command whose program has no recipe,
or that needs an input the test cannot make, fails and names its document: no silent skip.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted(ROOT.glob("*/README.md")), *sorted(ROOT.glob("*/*.ipynb"))]
COMMAND = re.compile(r"^(?:\$\s+)?((?:python3?|torchrun)\s+\S.*)$")
INLINE = re.compile(r"`((?:python3?|torchrun)\s+[^`]+)`")
FENCE = re.compile(r"^\s*(```|~~~)")
TIMEOUT_S = 240  # a benchmark's tiny run takes about 30 s on two busy cores


@dataclass
class Command:
    text: str  # as written, without prompt and comment
    doc: str  # where first written: "path:line" (notebooks: "path:cell N")
    also: list[str] = field(default_factory=list)


def _markdown_blocks(path: Path) -> list[tuple[str, str]]:
    """(text, location prefix) of each markdown source in a document."""
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        return [
            ("".join(c["source"]), f"cell {i} line ")
            for i, c in enumerate(cells)
            if c["cell_type"] == "markdown"
        ]
    return [(path.read_text(encoding="utf-8"), "")]


def commands_in(markdown: str) -> list[tuple[int, str]]:
    """(line number, command) for each command in a markdown text.

    >>> commands_in("Run `python -m tool --x 1` or just `torchrun`:\\n\\n```bash\\n$ python a.py \\\\\\n  --b 2   # note\\n```\\n\\n    torchrun -m x\\n")
    [(1, 'python -m tool --x 1'), (4, 'python a.py --b 2'), (8, 'torchrun -m x')]
    """
    found, in_fence, pending = [], False, None
    for number, line in enumerate(markdown.split("\n"), start=1):
        if FENCE.match(line):
            in_fence = not in_fence
            continue
        code = in_fence or line.startswith("    ")
        if code and pending is not None:
            start, text = pending
            text += " " + line.strip()
        elif code and (m := COMMAND.match(line.strip())):
            start, text = number, m[1]
        else:
            found += [(number, m[1].strip()) for m in INLINE.finditer(line)] if not code else []
            continue
        pending = (start, text.removesuffix("\\").rstrip()) if text.endswith("\\") else None
        if pending is None:
            found.append((start, " ".join(shlex.split(text, comments=True))))
    return found


def collect(docs: list[Path] = DOCS) -> list[Command]:
    seen: dict[str, Command] = {}
    for path in docs:
        for markdown, where in _markdown_blocks(path):
            for number, text in commands_in(markdown):
                key = _dedupe_key(text)
                doc = f"{path.relative_to(ROOT).as_posix()}:{where}{number}"
                if key in seen:
                    seen[key].also.append(doc)
                else:
                    seen[key] = Command(text, doc)
    return list(seen.values())


def _dedupe_key(text: str) -> str:
    return re.sub(r"--nproc_per_node[= ](\d+)", lambda m: f"--nproc_per_node={min(int(m[1]), 2)}", text)


# --- how each program runs tiny --------------------------------------------------------------------


@dataclass(frozen=True)
class Recipe:
    extra: tuple[str, ...] = ()  # appended to the documented arguments ("{ws}": the working folder)
    bare: str = "help"  # no documented arguments: "help" runs --help, "run" runs with ``extra``
    stdin: str | None = None
    expect: str = ""  # a line the output must contain


PRETRAIN_TINY = (
    "--context-length",
    "16",
    "--emb-dim",
    "16",
    "--n-heads",
    "2",
    "--n-layers",
    "1",
    "--batch-size",
    "2",
    "--max-steps",
    "2",
    "--eval-every",
    "1",
    "--eval-batches",
    "1",
    "--checkpoint-every",
    "1",
    "--sample-tokens",
    "2",
    "--threads",
    "1",
    "--no-progress",
)
# Benchmark scripts: the line a full run also prints, so the tiny run must reach the end of the script.
BENCHMARKS = {
    "attention.py": "teaching / sdpa",
    "bpe.py": "identical ids",
    "dataset_memory.py": "copies / views memory ratio",
    "generation.py": "chapter 7 evaluation, batched / one by one",  # the last part's line
    "llama_generation.py": "same 100 tokens",
    "profile_generation.py": "chapter 7 evaluation: prefill is",  # the last part's line
    "precision.py": "bf16 autocast",
    "training.py": "ours faster by",
}
RECIPES: dict[str, Recipe] = {
    **{
        f"benchmarks/{name}": Recipe(("--tiny",), bare="run", expect=line)
        for name, line in BENCHMARKS.items()
    },
    # run_all.py runs every script above; tiny, it only rebuilds the README (into the working folder).
    "benchmarks/run_all.py": Recipe(
        ("--readme-only", "--readme", "{ws}/README.md"), bare="run", expect="wrote"
    ),
    "ch05_pretraining/stall_experiment.py": Recipe(
        ("--model", "tiny", "--steps", "2", "--eval-every", "1", "--one-batch-steps", "2"),
        expect="2 steps torch-untied",
    ),
    "llmscratch:pretrain": Recipe(PRETRAIN_TINY),
    "llmscratch:chat": Recipe(("--max-new-tokens", "4"), stdin="Say hello.\n"),
    "llmscratch:spam_finetune": Recipe(
        tuple("--n-train 8 --n-val 8 --n-test 8 --n-heldout 8 --batch-size 4 --seeds 1".split()),
        expect='"test_accuracy"',
    ),
    "appendix_pytorch/ddp_train.py": Recipe(("--n-samples", "128"), bare="run"),
    ".ci/colab_cells.py": Recipe(("--check",), bare="run"),  # never rewrites the notebooks under test
    ".ci/execute_notebooks.py": Recipe(("--list",), expect=".ipynb"),  # a full-size run takes hours
    "pytest": Recipe(),  # `python -m pytest` is what runs this file; .ci/run runs it in full
    "torch.distributed.run": Recipe(),
}
# Option values that only make sense on the machine that wrote them: replaced by a folder of the test.
OPTION_VALUES = {
    "--nanogpt": "{ws}/no-nanogpt-checkout",  # the script says nanoGPT is not there and goes on
    "--out": "{ws}/out.json",  # never the committed result file next to the script
}


def _story_folder(path: Path) -> None:
    from llmscratch.assets import ASSET_DIR, DEFAULT_STORY

    path.mkdir(parents=True, exist_ok=True)
    shutil.copy(ASSET_DIR / f"{DEFAULT_STORY}.txt", path / "story.txt")


def _chat_checkpoint(path: Path) -> None:
    import torch

    from llmscratch.chat import save_chat_weights
    from llmscratch.model.config import TINY
    from llmscratch.model.gpt import GPTModel

    torch.manual_seed(0)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_chat_weights(path, GPTModel(TINY).eval(), tokenizer="gpt2")


# What a documented command reads and the reader brings: argument (relative to the working folder,
# or under the cache for "~/.cache/llmscratch/...") -> how the test makes a tiny one.
INPUTS: dict[str, Callable[[Path], None]] = {
    "my_texts/": _story_folder,
    "~/.cache/llmscratch/checkpoints/ch07_instruct.safetensors": _chat_checkpoint,
}
DEFAULT_CACHE = "~/.cache/llmscratch"  # settings.cache_dir() when LLMSCRATCH_HOME is not set


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def program_of(argv: list[str], doc_dir: Path) -> tuple[str, int, Path | None]:
    """The recipe key of a command, where its own arguments start, and the script's path (if a script).

    ``python -m llmscratch.training.pretrain`` and ``python -m llmscratch.pretrain`` are both
    ``llmscratch:pretrain``: the package may move a module into a subpackage.
    """
    i = 1
    if argv[0] == "torchrun":
        while i < len(argv) and argv[i].startswith("-") and argv[i] != "-m":
            i += 1 if "=" in argv[i] or argv[i] in ("--standalone", "--no-python") else 2
    if argv[i] == "-m":
        module = argv[i + 1]
        key = "llmscratch:" + module.rsplit(".", 1)[-1] if module.startswith("llmscratch.") else module
        return key, i + 2, None
    script = next((p for p in (doc_dir / argv[i], ROOT / argv[i]) if p.is_file()), None)
    if script is None:
        raise AssertionError(f"{argv[i]} is neither next to the document nor at the repository root")
    return script.relative_to(ROOT).as_posix(), i + 1, script


def tiny_invocation(command: Command, ws: Path, cache: Path) -> tuple[list[str], Recipe]:
    """The argv that runs ``command`` tiny, in working folder ``ws`` with the cache ``cache``."""
    doc_dir = (ROOT / command.doc.split(":")[0]).parent
    argv = shlex.split(_dedupe_key(command.text))
    key, start, script = program_of(argv, doc_dir)
    recipe = RECIPES.get(key)
    if recipe is None:
        raise AssertionError(
            f"{command.doc}: no tiny recipe for {key!r} ({command.text}); add one to RECIPES in {Path(__file__).name}"
        )
    own = argv[start:]
    for i, arg in enumerate(own):
        if i and own[i - 1] in OPTION_VALUES:
            own[i] = OPTION_VALUES[own[i - 1]].format(ws=ws)
        elif arg in INPUTS or arg.startswith(DEFAULT_CACHE):
            target = (
                cache / arg.removeprefix(DEFAULT_CACHE).lstrip("/")
                if arg.startswith(DEFAULT_CACHE)
                else ws / arg
            )
            if not target.exists():
                if arg not in INPUTS:
                    raise AssertionError(
                        f"{command.doc}: {arg} is read by '{command.text}' but the test cannot make it; add it to INPUTS"
                    )
                INPUTS[arg](target)
            own[i] = str(target)
    if own:
        own += [a.format(ws=ws) for a in recipe.extra]
    else:
        own = ["--help"] if recipe.bare == "help" else [a.format(ws=ws) for a in recipe.extra]
    target = ["-m", argv[start - 1]] if script is None else [str(script)]
    if argv[0] == "torchrun":
        launcher = argv[1 : start - (2 if script is None else 1)]
        return [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--master_addr=127.0.0.1",
            f"--master_port={_free_port()}",
            *launcher,
            *target,
            *own,
        ], recipe
    return [sys.executable, *target, *own], recipe


# --- the tests -------------------------------------------------------------------------------------

COMMANDS = collect()
_XFAIL: dict[str, str] = {}  # exact documented commands known to fail today -> where they are fixed (strict)


def _params():
    for c in COMMANDS:
        marks = [pytest.mark.xfail(strict=True, reason=_XFAIL[c.text])] if c.text in _XFAIL else []
        yield pytest.param(c, id=c.doc, marks=marks)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Callable[[str], tuple[Path, Path]]:
    """One working folder and one cache folder per document, shared by its commands (in document order)."""
    made: dict[str, tuple[Path, Path]] = {}

    def get(doc: str) -> tuple[Path, Path]:
        if doc not in made:
            base = tmp_path_factory.mktemp(re.sub(r"\W+", "_", doc))
            made[doc] = (base / "work", base / "cache")
            for folder in made[doc]:
                folder.mkdir()
        return made[doc]

    return get


@pytest.mark.slow
@pytest.mark.parametrize("command", _params())
def test_documented_command_runs(command: Command, workspace):
    ws, cache = workspace(command.doc.split(":")[0])
    argv, recipe = tiny_invocation(command, ws, cache)
    env = {
        **os.environ,
        "LLMSCRATCH_HOME": str(cache),
        "LLMSCRATCH_OFFLINE": "1",
        "LLMSCRATCH_QUICK": "1",
        "OMP_NUM_THREADS": "1",
        "CUDA_VISIBLE_DEVICES": "",
        "TOKENIZERS_PARALLELISM": "false",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "shared"), *filter(None, [os.environ.get("PYTHONPATH")])]),
    }
    where = command.doc + (f" (also {', '.join(command.also)})" if command.also else "")
    try:
        proc = subprocess.run(
            argv,
            cwd=ws,
            env=env,
            input=recipe.stdin or "",
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(
            f"{where}: '{command.text}' did not finish within {TIMEOUT_S} s at tiny size\n{shlex.join(argv)}"
        )
    assert proc.returncode == 0, (
        f"{where}: '{command.text}' failed (exit {proc.returncode})\nran: {shlex.join(argv)}\n"
        f"stdout:\n{proc.stdout[-2000:]}\nstderr:\n{proc.stderr[-3000:]}"
    )
    assert recipe.expect in proc.stdout, (
        f"{where}: '{command.text}' did not print {recipe.expect!r}:\n{proc.stdout[-2000:]}"
    )


def test_every_benchmark_script_is_documented_with_a_recipe():
    """So each one's tiny run is one of the tests above (this file replaced a hand-kept smoke list)."""
    scripts = {
        f"benchmarks/{p.name}" for p in (ROOT / "benchmarks").glob("*.py") if not p.name.startswith("_")
    }  # _harness.py: helpers
    documented = {program_of(shlex.split(c.text), (ROOT / c.doc.split(":")[0]).parent)[0] for c in COMMANDS}
    assert scripts <= documented, (
        f"benchmark scripts no README runs (list them in README.md's table): {sorted(scripts - documented)}"
    )
    assert scripts <= set(RECIPES), f"benchmark scripts without a recipe: {sorted(scripts - set(RECIPES))}"


def test_the_collector_reads_code_blocks_inline_spans_prompts_and_continuations():
    markdown = "\n".join(
        [
            "Train with `python -m llmscratch.pretrain data/ --epochs 2` or read about `torchrun` (a name, not a command).",
            "```bash",
            "$ python benchmarks/x.py --a 1 \\",
            "    --b 2        # comment dropped",
            "pip install something   # not a python or torchrun command",
            "```",
            "",
            "    torchrun --nproc_per_node=8 -m llmscratch.chat",
            "Prose that says python -m nothing outside code is not a command.",
        ]
    )
    assert commands_in(markdown) == [
        (1, "python -m llmscratch.pretrain data/ --epochs 2"),
        (3, "python benchmarks/x.py --a 1 --b 2"),
        (8, "torchrun --nproc_per_node=8 -m llmscratch.chat"),
    ]


def _invocation(text: str, tmp_path: Path, doc: str = "README.md:1") -> list[str]:
    return tiny_invocation(Command(text, doc), tmp_path, tmp_path / "cache")[0]


def test_tiny_invocations(tmp_path):
    argv = _invocation(
        "torchrun --nproc_per_node=8 -m llmscratch.training.pretrain my_texts/ --out-dir runs/x", tmp_path
    )
    assert (
        argv[:3] == [sys.executable, "-m", "torch.distributed.run"] and "--nproc_per_node=2" in argv
    )  # at most 2 CPU processes
    assert any(a.startswith("--master_port=") for a in argv)
    at = argv.index("-m", 3)
    assert argv[at + 1] == "llmscratch.training.pretrain" and argv[at + 2] == str(
        tmp_path / "my_texts/"
    )  # a moved module keeps its recipe
    assert list((tmp_path / "my_texts").glob("*.txt")), "the test makes the reader's text folder"
    assert argv[-len(PRETRAIN_TINY) :] == list(PRETRAIN_TINY)
    assert _invocation("python -m llmscratch.chat", tmp_path)[1:] == [
        "-m",
        "llmscratch.chat",
        "--help",
    ]  # a bare name
    assert _invocation("python benchmarks/bpe.py", tmp_path)[1:] == [
        str(ROOT / "benchmarks" / "bpe.py"),
        "--tiny",
    ]
    chat = _invocation(
        "python -m llmscratch.chat --checkpoint ~/.cache/llmscratch/checkpoints/ch07_instruct.safetensors",
        tmp_path,
    )
    assert (
        chat[4] == str(tmp_path / "cache" / "checkpoints" / "ch07_instruct.safetensors")
        and Path(chat[4]).is_file()
    )


def test_a_command_the_test_cannot_run_fails_naming_its_document(tmp_path):
    with pytest.raises(AssertionError, match=r"docs/x.md:3: no tiny recipe for 'llmscratch:newtool'"):
        _invocation("python -m llmscratch.newtool --fast", tmp_path, doc="docs/x.md:3")
    with pytest.raises(
        AssertionError, match=r"README.md:1: ~/.cache/llmscratch/other.bin is read by .* add it to INPUTS"
    ):
        _invocation("python -m llmscratch.chat --checkpoint ~/.cache/llmscratch/other.bin", tmp_path)
    with pytest.raises(AssertionError, match="neither next to the document nor at the repository root"):
        _invocation("python tools/missing.py", tmp_path)
