"""Every script in ``benchmarks/`` runs at its ``--tiny`` size, so none goes stale as the package changes.

These are smoke tests: they check that each script runs to the end and prints its result line,
never a timing (performance is read from the scripts' printed ratios, by a person, on a quiet machine).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"

# script -> a line its full run also prints: the smoke run must reach the end of the script
EXPECTED = {
    "attention.py": "teaching / sdpa",
    "bpe.py": "identical ids",
    "dataset_memory.py": "copies / views memory ratio",
    "generation.py": "sdpa / teaching attention",
    "llama_generation.py": "same 100 tokens",
    "precision.py": "bf16 autocast",
    "training.py": "ours faster by",
    "run_all.py": "wrote",
}
# The smoke run's arguments: --tiny, except run_all.py, which only rebuilds a README (into tmp_path).
ARGS = {"run_all.py": ["--readme-only", "--readme", "{tmp}/README.md"]}


def test_every_benchmark_has_a_smoke_test():
    scripts = [p.name for p in BENCHMARKS.glob("*.py") if not p.name.startswith("_")]  # _harness.py: shared helpers
    assert sorted(scripts) == sorted(EXPECTED)


@pytest.mark.parametrize("script", sorted(EXPECTED))
def test_benchmark_runs_at_tiny_size(script, tmp_path):
    env = {**os.environ, "LLMSCRATCH_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *(a.format(tmp=tmp_path) for a in ARGS.get(script, ["--tiny"]))],
        capture_output=True, text=True, timeout=300, env=env
    )
    assert result.returncode == 0, f"{script} --tiny failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    assert EXPECTED[script] in result.stdout, result.stdout[-2000:]
    assert "ERROR" not in result.stdout


def test_readme_summary_names_each_row_it_extracts():
    """A script printing one ratio per shape gets one labelled README row per shape, not two identical ones."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import run_all
    finally:
        sys.path.remove(str(BENCHMARKS))
    attention = "GPTModel, forward+backward:   teaching   sdpa   teaching / sdpa\n" \
                "        4 x 256    1114.98 ms     944.57 ms            1.18x\n" \
                "       1 x 1024    1506.08 ms    1028.10 ms            1.46x\n"
    rows = run_all.summary_rows("attention.py", attention)
    assert [(r[1].rsplit("[", 1)[-1], r[2]) for r in rows] == [("4 x 256]", "1.18x"), ("1 x 1024]", "1.46x")]
    training = "=== 124M-b2: 12 layers ===\ntransformers      3.037       169     0.998     1.899   0.097    129.8   64.0%           1.12x\n"
    assert run_all.summary_rows("training.py", training)[0][1:3] == ("tokens/s, ours / transformers (eager fp32) [124M-b2]", "1.12x")
