"""llmscratch.finetune.spam_finetune: the measuring helpers and bad input (the full run is exercised by the ch06 notebooks)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import llmscratch
from llmscratch.finetune.spam_finetune import main, run


def _peak_in_fresh_process(mib: int) -> float:
    """Peak RSS (MiB) of a fresh interpreter that writes a float32 tensor of ``mib`` MiB (a fresh
    process, because a process's peak never goes down: an earlier test could hide the growth)."""
    code = ("import torch; from llmscratch.finetune.spam_finetune import peak_rss_mib; "
            f"t = torch.ones({mib} * 2**20 // 4); print(peak_rss_mib())")
    env = {**os.environ, "PYTHONPATH": str(Path(llmscratch.__file__).resolve().parent.parent)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return float(done.stdout.strip())


def test_peak_rss_sees_torch_cpu_tensors():
    assert _peak_in_fresh_process(256) - _peak_in_fresh_process(0) > 128  # a 256 MiB tensor; tracemalloc would see ~0


def test_bad_method_is_named():
    with pytest.raises(ValueError, match="method must be 'last_block', 'lora' or 'all'"):
        run("everything")


def test_cli_rejects_unknown_method(capsys):
    with pytest.raises(SystemExit, match="2"):  # argparse's usage-error exit code
        main(["--method", "everything"])
    assert "invalid choice" in capsys.readouterr().err
