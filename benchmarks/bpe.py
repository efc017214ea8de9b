"""Speed of ``llmscratch.text.bpe``: training against the naive trainer and HuggingFace, encoding against tiktoken.

    python benchmarks/bpe.py [--size 1000000] [--vocab-sizes 1024 4096] [--naive-seconds 90]
    python benchmarks/bpe.py --tiny    # a smoke run in seconds: 20 KB, vocab 300 (the test suite runs it)

The corpus (~1 MB, deterministic, offline) is built by ``build_corpus``: our bundled story, then
Python's own help texts (``pydoc_data.topics``, by topic name), then the docstrings of the standard
library (modules, classes and functions, files in sorted path order, test folders skipped), until
``--size`` UTF-8 bytes, cut at a character boundary. The same Python version gives the same bytes;
the script prints the SHA-256 so runs can be compared.

Training (one row per vocabulary size; ours and HF best of 3), all in this process on the same corpus:
- ``ours``: ``train_bpe`` (incremental pair counts on unique chunks, heap).
- ``naive``: ``train_naive`` (recounts every pair of the corpus after every merge), stopped after
  ``--naive-seconds``. Its merges so far are checked against ours (they must be the same), and the
  full time is extrapolated: a naive merge costs time proportional to the current corpus length in
  tokens, which ``train_bpe``'s log records for every merge, so
  ``estimate = elapsed * sum(length before each merge, all merges) / sum(same, merges done)``.
  That errs low (each naive merge also has a cost per chunk that does not shrink), so the printed
  speed-up is a lower bound.
- ``HF tokenizers``: ``BpeTrainer`` with the byte-level GPT-2 pre-tokenizer, single-threaded
  (``TOKENIZERS_PARALLELISM=false``), if the package is installed. Its tie-break differs from ours
  (it orders pairs by its own ids), so the row also prints how many tokens the two vocabularies share.

Encoding: MB/s of ``encode_ordinary`` over the corpus, best of 3, single thread, process CPU time;
ours both with a cold chunk cache (emptied before each run: every distinct chunk merged in Python)
and a warm one (filled by the previous run, as when a tokenizer meets text like what it has seen);
tiktoken runs the very same ranks (GPT-2's, and our 4,096 vocabulary's) and must give the same ids.
All times are process CPU time (everything here is single-threaded).
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import os
import sys
import sysconfig
import time
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # before importing tokenizers: one thread
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "shared"))
import _harness as H  # noqa: E402

from llmscratch.assets import load_text  # noqa: E402
from llmscratch.text.bpe import TrainingLog, load_gpt2, train_bpe, train_naive  # noqa: E402
from llmscratch.text.gpt2 import bytes_to_unicode, gpt2_encoding  # noqa: E402

SKIP_DIRS = {"test", "tests", "site-packages", "dist-packages", "idlelib", "lib2to3", "__pycache__"}


def _stdlib_docstrings():
    root = Path(sysconfig.get_paths()["stdlib"])
    for path in sorted(root.rglob("*.py")):
        if SKIP_DIRS & set(path.relative_to(root).parts):
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                doc = ast.get_docstring(node)
                if doc:
                    yield doc


def build_corpus(size: int) -> tuple[str, dict[str, int]]:
    """About ``size`` bytes of text from offline sources (see the module docstring), and their shares."""
    from pydoc_data.topics import topics

    sources = {
        "bundled story": iter([load_text()]),
        "pydoc help topics": (topics[name] for name in sorted(topics)),
        "stdlib docstrings": _stdlib_docstrings(),
    }
    parts, shares, total = [], {}, 0
    for name, texts in sources.items():
        for text in texts:
            if total >= size:
                break
            parts.append(text)
            total += len(text.encode("utf-8")) + 2
            shares[name] = shares.get(name, 0) + len(text.encode("utf-8")) + 2
    corpus = "\n\n".join(parts).encode("utf-8")[:size].decode("utf-8", errors="ignore")
    return corpus, shares


def best_of(n: int, fn, setup=lambda: None) -> float:
    times = []
    for _ in range(n):
        setup()
        start = time.process_time()  # CPU seconds of this (single-threaded) work: steady on a busy machine
        fn()
        times.append(time.process_time() - start)
    return min(times)


def train_row(corpus: str, vocab_size: int, naive_seconds: float) -> None:
    log = TrainingLog()
    ours = train_bpe(corpus, vocab_size, log=log)
    t_ours = best_of(3, lambda: train_bpe(corpus, vocab_size))
    n_merges = len(ours.merges)

    naive_log = TrainingLog()
    naive = train_naive(corpus, vocab_size, log=naive_log, time_limit=naive_seconds)
    done = len(naive.merges)
    assert naive.merges == ours.merges[:done], "naive and fast trainers disagree"
    if done == n_merges:
        t_naive, how = naive_log.seconds, "measured"
    else:
        ratio = sum(log.n_tokens[:n_merges]) / sum(log.n_tokens[:done])
        t_naive, how = (
            naive_log.seconds * ratio,
            f"extrapolated from {done} of {n_merges} merges in {naive_log.seconds:.0f} s",
        )

    line = f"  vocab_size={vocab_size:>5}: ours {t_ours:6.2f} s | naive {t_naive:8.1f} s ({how}): ours is {t_naive / t_ours:,.0f}x faster"
    try:
        from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    except ImportError:
        line += " | HF tokenizers not installed"
    else:
        hf = Tokenizer(models.BPE())
        hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
        )
        t_hf = best_of(3, lambda: hf.train_from_iterator([corpus], trainer))
        to_byte = {ch: b for b, ch in bytes_to_unicode().items()}
        shared = set(ours.tokens) & {bytes(to_byte[ch] for ch in token) for token in hf.get_vocab()}
        line += f" | HF tokenizers {t_hf:.2f} s: ours takes {t_ours / t_hf:.1f}x as long ({len(shared):,} of {vocab_size:,} tokens in common)"
    print(line, flush=True)


def encode_row(label: str, ours, reference, corpus: str) -> None:
    """MB/s of ours (cold: chunk cache emptied before each run; warm: cache filled by a previous run)
    and of tiktoken, best of 3 each, one thread, process CPU time; the ids must be identical."""
    n_bytes = len(corpus.encode("utf-8"))
    assert ours.encode_ordinary(corpus) == reference.encode_ordinary(corpus), (
        f"{label}: ids differ from tiktoken"
    )
    t_cold = best_of(3, lambda: ours.encode_ordinary(corpus), setup=ours.clear_cache)
    t_warm = best_of(3, lambda: ours.encode_ordinary(corpus))
    t_ref = best_of(3, lambda: reference.encode_ordinary(corpus))
    print(
        f"  {label:<22} ours {n_bytes / t_cold / 1e6:5.2f} MB/s cold, {n_bytes / t_warm / 1e6:5.2f} MB/s warm cache | "
        f"tiktoken {n_bytes / t_ref / 1e6:5.2f} MB/s: tiktoken is {t_cold / t_ref:.2f}x faster cold, "
        f"{t_warm / t_ref:.2f}x warm (identical ids)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=1_000_000, help="corpus size in bytes")
    parser.add_argument("--vocab-sizes", type=int, nargs="+", default=[1024, 4096])
    parser.add_argument(
        "--naive-seconds", type=float, default=90.0, help="time cap of the naive trainer per vocab size"
    )
    parser.add_argument(
        "--tiny", action="store_true", help="smoke run: 20 KB corpus, vocab 300, naive capped at 1 s"
    )
    args = parser.parse_args()
    if args.tiny:
        args.size, args.vocab_sizes, args.naive_seconds = 20_000, [300], 1.0

    print(H.machine_info("n/a (tokenizer)"))
    corpus, shares = build_corpus(args.size)
    data = corpus.encode("utf-8")
    print(
        f"corpus: {len(data):,} bytes, {len(corpus):,} characters, sha256 {hashlib.sha256(data).hexdigest()[:16]}, Python {sys.version.split()[0]}"
    )
    print("  from " + ", ".join(f"{name} ({n:,} B)" for name, n in shares.items()))
    print("training (single thread):")
    for vocab_size in args.vocab_sizes:
        train_row(corpus, vocab_size, args.naive_seconds)
    print(
        "encoding (encode_ordinary, single thread, process CPU time, best of 3; cold = our chunk cache emptied first):"
    )
    encode_row("GPT-2 (50,257 tokens)", load_gpt2(), gpt2_encoding(), corpus)
    trained = train_bpe(corpus, max(args.vocab_sizes))
    encode_row(f"trained ({trained.vocab_size:,} tokens)", trained, trained.to_tiktoken(), corpus)


if __name__ == "__main__":
    main()
