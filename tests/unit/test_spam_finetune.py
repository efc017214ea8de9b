"""llmscratch.finetune.spam_finetune: the measuring helpers and bad input (the full run is exercised by the ch06 notebooks)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import llmscratch
from llmscratch.finetune.spam_data import load_sms
from llmscratch.finetune.spam_finetune import (
    heldout_accuracy_by_kind,
    main,
    over_seeds,
    run,
    run_in_fresh_process,
)


def _peak_in_fresh_process(mib: int) -> float:
    """Peak RSS (MiB) of a fresh interpreter that writes a float32 tensor of ``mib`` MiB (a fresh
    process, because a process's peak never goes down: an earlier test could hide the growth)."""
    code = (
        "import torch; from llmscratch.finetune.spam_finetune import peak_rss_mib; "
        f"t = torch.ones({mib} * 2**20 // 4); print(peak_rss_mib())"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(llmscratch.__file__).resolve().parent.parent)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return float(done.stdout.strip())


def test_peak_rss_sees_torch_cpu_tensors():
    assert (
        _peak_in_fresh_process(256) - _peak_in_fresh_process(0) > 128
    )  # a 256 MiB tensor; tracemalloc would see ~0


def test_bad_method_is_named():
    with pytest.raises(ValueError, match="method must be 'last_block', 'lora' or 'all'"):
        run("everything")


def test_cli_rejects_unknown_method(capsys):
    with pytest.raises(SystemExit, match="2"):  # argparse's usage-error exit code
        main(["--method", "everything"])
    assert "invalid choice" in capsys.readouterr().err


# --- several seeds ------------------------------------------------------------------------------


def _fake_run(method, *, seed, **kwargs):
    """A stand-in for ``run``: accuracies that depend on the seed, so the summary can be checked by hand."""
    return {
        "method": method,
        "seed": seed,
        "train_messages": 10,
        "test_messages": 4,
        "heldout_messages": 8,
        "test_accuracy": 0.5 + 0.1 * seed,
        "heldout_accuracy": 0.6,
        "bow_test_accuracy": 0.75,
        "bow_heldout_accuracy": 0.4 + 0.05 * seed,
        "majority_test_accuracy": 0.5,
        "majority_heldout_accuracy": 0.5,
        "kwargs": kwargs,
    }


def test_over_seeds_runs_each_seed_with_the_same_settings_and_summarizes():
    seen = []
    runs = over_seeds("lora", [1, 2, 3], runner=_fake_run, log=seen.append, epochs=2, lr=1e-3)
    assert [r["seed"] for r in runs.runs] == [1, 2, 3] and seen == runs.runs
    assert all(r["kwargs"] == {"epochs": 2, "lr": 1e-3} and r["method"] == "lora" for r in runs.runs)
    assert runs.spread("test_accuracy").mean == pytest.approx(0.7)
    gap = runs.gap()  # heldout LLM - heldout bag of words, per seed: 0.15, 0.1, 0.05
    assert (gap.mean, gap.min, gap.max) == pytest.approx((0.1, 0.05, 0.15))
    table = runs.table()
    assert "lora: seeds 1, 2, 3" in table and "held-out kinds 8" in table
    assert "fine-tuned LLM   70.0% ± 10.0 [60.0, 80.0], 3 seeds" in table
    assert "bag of words     75.0% ± 0.0 [75.0, 75.0], 3 seeds" in table
    with pytest.raises(KeyError, match="'nope' is not in the results"):
        runs.spread("nope")


@pytest.mark.parametrize("seeds, match", [([], "non-empty"), ([1, 1], "distinct")])
def test_over_seeds_rejects_bad_seed_lists(seeds, match):
    with pytest.raises(ValueError, match=match):
        over_seeds("lora", seeds, runner=_fake_run)


def test_over_seeds_refuses_a_single_seed_keyword():
    with pytest.raises(TypeError, match="seeds="):
        over_seeds("lora", [1], runner=_fake_run, seed=4)


def test_fresh_process_failure_carries_the_error():
    with pytest.raises(RuntimeError, match="invalid choice"):
        run_in_fresh_process("everything")


@pytest.mark.slow
def test_tiny_run_over_two_seeds_in_fresh_processes():
    """The real recipe on a tiny config: every accuracy is a fraction of the right denominator and the
    two baselines are scored on the same training messages."""
    runs = over_seeds(
        "last_block",
        [1, 2],
        fresh_process=True,
        n_train=8,
        n_val=4,
        n_test=8,
        n_heldout=10,
        epochs=1,
        batch_size=4,
    )
    heldout = load_sms("heldout_kinds").labels[:10]
    for r, seed in zip(runs.runs, (1, 2)):
        assert (r["seed"], r["train_messages"], r["test_messages"], r["heldout_messages"]) == (seed, 8, 8, 10)
        for key in ("test_accuracy", "heldout_accuracy", "bow_test_accuracy", "bow_heldout_accuracy"):
            denominator = 10 if "heldout" in key else 8
            assert 0 <= r[key] <= 1 and (r[key] * denominator) == pytest.approx(round(r[key] * denominator))
        assert r["majority_heldout_accuracy"] in (heldout.count(0) / 10, heldout.count(1) / 10)
    assert runs.spread("heldout_accuracy").n == 2


def test_heldout_accuracy_by_kind_reads_the_file_order():
    truth = load_sms("heldout_kinds").labels
    by_kind = heldout_accuracy_by_kind(truth)  # perfect predictions: every kind 100%
    assert len(by_kind) == 20 and set(by_kind.values()) == {1.0}
    assert "romance" in by_kind and "landlord_boiler" in by_kind
    all_spam = heldout_accuracy_by_kind([1] * len(truth))
    assert all_spam["romance"] == 1.0 and all_spam["landlord_boiler"] == 0.0
    with pytest.raises(ValueError, match="201 predictions for 200"):
        heldout_accuracy_by_kind([0] * 201)
