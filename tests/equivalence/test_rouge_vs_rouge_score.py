"""Our ROUGE-L against Google's ``rouge-score`` package on many pairs (no stemming, its default tokenizer).

The pairs mix the bundled instruction outputs (reference vs. another entry's output, vs. a
shuffled or truncated copy) with random word salads, so short, long, equal and disjoint texts occur.
"""

from __future__ import annotations

import random

import pytest

from llmscratch.finetune.instruct_data import load_instructions
from llmscratch.finetune.metrics import rouge_l

rouge_scorer = pytest.importorskip("rouge_score.rouge_scorer", reason="pip install rouge-score")


def _pairs(n=1500, seed=0):
    rng = random.Random(seed)
    outputs = [e["output"] for e in load_instructions("bundled")]
    vocab = "the a cat dog sat on mat 3 4 five is are Paris, 'quoted' x-ray café".split()
    pairs = []
    for _ in range(n):
        ref = rng.choice(outputs)
        tokens = ref.split()
        choice = rng.randrange(5)
        if choice == 0:
            pred = rng.choice(outputs)
        elif choice == 1:
            pred = " ".join(rng.sample(tokens, len(tokens)))
        elif choice == 2:
            pred = " ".join(tokens[: rng.randrange(len(tokens) + 1)])
        elif choice == 3:
            pred, ref = (
                " ".join(rng.choices(vocab, k=rng.randrange(12))),
                " ".join(rng.choices(vocab, k=rng.randrange(1, 12))),
            )
        else:
            pred = ref.upper() + " " + rng.choice(outputs)
        pairs.append((pred, ref))
    return pairs + [("", "x"), ("x", ""), ("", ""), ("!!!", "?")]


def test_rouge_l_matches_rouge_score():
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    worst = 0.0
    for pred, ref in _pairs():
        expected = scorer.score(ref, pred)["rougeL"].fmeasure  # score(target, prediction)
        worst = max(worst, abs(rouge_l(pred, ref) - expected))
    assert worst < 1e-12, f"max |ours - rouge-score| = {worst:.3g}"
