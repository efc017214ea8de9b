"""The benchmark scripts' helpers. Each script's ``--tiny`` smoke run is in ``test_documented_commands.py``.

Every script in ``benchmarks/`` is listed in the README (a test there checks it), so the
documented-commands test runs each one at its ``--tiny`` size and checks that it reaches the line its
full run prints: none goes stale as the package changes. Never a timing (performance is read from the
scripts' printed ratios, by a person, on a quiet machine).
"""

from __future__ import annotations

import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def test_readme_summary_names_each_row_it_extracts():
    """A script printing one ratio per shape gets one labelled README row per shape, not two identical ones."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import run_all
    finally:
        sys.path.remove(str(BENCHMARKS))
    attention = (
        "GPTModel, forward+backward:   teaching   sdpa   teaching / sdpa\n"
        "        4 x 256    1114.98 ms     944.57 ms            1.18x\n"
        "       1 x 1024    1506.08 ms    1028.10 ms            1.46x\n"
    )
    rows = run_all.summary_rows("attention.py", attention)
    assert [(r[1].rsplit("[", 1)[-1], r[2]) for r in rows] == [("4 x 256]", "1.18x"), ("1 x 1024]", "1.46x")]
    training = "=== 124M-b2: 12 layers ===\ntransformers      3.037       169     0.998     1.899   0.097    129.8   64.0%           1.12x\n"
    assert run_all.summary_rows("training.py", training)[0][1:3] == (
        "tokens/s, ours / transformers (eager fp32) [124M-b2]",
        "1.12x",
    )


def test_a_failed_run_is_kept_and_marked_in_the_readme(tmp_path, monkeypatch):
    """A long run that fails near its end keeps its output; the README says it failed above the rows it printed."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import run_all
    finally:
        sys.path.remove(str(BENCHMARKS))
    monkeypatch.setattr(run_all, "RESULTS", tmp_path)
    (tmp_path / "generation.txt").write_text(
        "$ python benchmarks/generation.py\n# run 2026-01-01 00:00 UTC\n# FAILED (exit 1); stderr ends:\nboom\n"
        "=== cache: load average 0.1 ===\nKV cache speed-up (ours, cached / uncached): 5.10x\n"
    )
    table = run_all.write_readme(tmp_path / "README.md").read_text().split("\n## ")[0]
    assert "| `generation` | the run itself | FAILED (exit 1; see its output) | exit 0 |" in table
    assert "| `generation` | ours cached / ours uncached [cache] | 5.10x | >= 5x |" in table
