"""Speed of the teaching attention vs the fast one vs ``nn.MultiheadAttention``, measured in one run.

    python benchmarks/attention.py            # GPT-2 small width (768, 12 heads), T = 256 and 1024
    python benchmarks/attention.py --tiny     # a smoke run in seconds: tiny sizes, one round (the test suite runs it)
    python benchmarks/attention.py --wall     # wall-clock time with all CPU threads instead

A second table times a whole (2-block) ``GPTModel`` forward + backward pass with
``attn_impl="teaching"`` vs ``attn_impl="sdpa"`` (the default), the same weights in both.

For each shape it times an eval-mode forward pass (inference) and a forward + backward pass
(training, ``drop_rate=0`` so all three do the same arithmetic). The three implementations are
timed in turn, ``--rounds`` times over, and each reports its fastest run (the least disturbed
one), so load from other processes hurts all three alike.

On a CPU the default clock is the *process CPU time* with PyTorch limited to one thread: on a
shared machine wall-clock times swing by 2x with other processes' load, CPU time hardly at all.
On a GPU (or with ``--wall``) it is wall-clock time, synchronised. Ratios are what to read:
absolute times depend on the machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "shared"))

import _harness as H  # noqa: E402

from llmscratch.device import describe_device, get_device  # noqa: E402
from llmscratch.model.attention import MultiHeadAttention, MultiHeadAttentionFast  # noqa: E402
from llmscratch.model.config import GPTConfig  # noqa: E402
from llmscratch.model.gpt import GPTModel  # noqa: E402


class TorchMHA(nn.Module):
    """``nn.MultiheadAttention`` in causal self-attention form, so it takes ``x`` like ours."""

    def __init__(self, emb_dim: int, n_heads: int):
        super().__init__()
        self.inner = nn.MultiheadAttention(emb_dim, n_heads, bias=True, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n_tokens = x.shape[1]
        future = torch.ones(n_tokens, n_tokens, dtype=torch.bool, device=x.device).triu(
            1
        )  # True = masked out
        return self.inner(x, x, x, attn_mask=future, is_causal=True, need_weights=False)[0]


def time_one(module: nn.Module, x: torch.Tensor, backward: bool, repeats: int, wall: bool) -> float:
    """Fastest of ``repeats`` runs, in seconds, after two warm-up runs."""
    module.train(backward)
    sync = torch.cuda.synchronize if x.device.type == "cuda" else (lambda: None)
    clock = time.perf_counter if wall else time.process_time

    def run():
        if backward:
            module(x).float().mean().backward()
        else:
            with torch.no_grad():
                module(x)

    for _ in range(2):
        run()
    best = float("inf")
    for _ in range(repeats):
        sync()
        start = clock()
        run()
        sync()
        best = min(best, clock() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--tiny", "--quick", action="store_true", dest="tiny", help="smoke run: tiny sizes, one round"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per measurement")
    parser.add_argument("--wall", action="store_true", help="wall-clock time, all threads (default on GPUs)")
    args = parser.parse_args()
    print(H.machine_info("float32"))
    if args.tiny:
        args.rounds, args.repeats = 1, 1

    device = get_device()
    emb_dim, n_heads = (32, 4) if args.tiny else (768, 12)
    shapes = [(2, 16), (1, 32)] if args.tiny else [(4, 256), (1, 1024)]  # (batch, num_tokens)
    wall = args.wall or device.type != "cpu"
    if not wall:
        torch.set_num_threads(1)
    clock = "wall-clock time" if wall else "process CPU time, 1 thread"
    print(
        f"torch {torch.__version__}, {describe_device(device)}; emb_dim={emb_dim}, n_heads={n_heads}, float32; {clock}"
    )

    torch.manual_seed(0)
    context_length = max(t for _, t in shapes)
    teaching = MultiHeadAttention(emb_dim, emb_dim, context_length, 0.0, n_heads, qkv_bias=True).to(device)
    fast = MultiHeadAttentionFast.from_teaching(teaching)
    reference = TorchMHA(emb_dim, n_heads).to(device)
    modules = {"teaching": teaching, "fast": fast, "nn.MultiheadAttention": reference}

    header = (
        f"{'pass':<17}{'B x T':>10}" + "".join(f"{name:>24}" for name in modules) + f"{'teaching / fast':>17}"
    )
    print(header)
    for backward in (False, True):
        for batch, n_tokens in shapes:
            x = torch.randn(batch, n_tokens, emb_dim, device=device)
            best = {name: float("inf") for name in modules}
            for _ in range(args.rounds):
                for name, module in modules.items():
                    best[name] = min(best[name], time_one(module, x, backward, args.repeats, wall))
            cells = "".join(f"{best[name] * 1e3:>21.2f} ms" for name in modules)
            label = "forward+backward" if backward else "forward (eval)"
            print(f"{label:<17}{f'{batch} x {n_tokens}':>10}{cells}{best['teaching'] / best['fast']:>16.2f}x")
    n_floats = shapes[-1][0] * n_heads * shapes[-1][1] ** 2
    print(
        f"The teaching version stores several (B, H, T, T) tensors (scores, masked scores, weights): each holds "
        f"{n_floats:,} floats ({n_floats * 4 / 2**20:.1f} MiB) at B x T = {shapes[-1][0]} x {shapes[-1][1]}. "
        "A fused kernel never stores them (on CPU, torch uses one when dropout is off)."
    )
    time_models(emb_dim, n_heads, shapes, device, args.rounds, args.repeats, wall)


def time_models(emb_dim, n_heads, shapes, device, rounds, repeats, wall) -> None:
    """GPTModel forward + backward (loss = mean logit) with each attention implementation, same weights."""
    cfg = GPTConfig(
        vocab_size=1024,
        context_length=max(t for _, t in shapes),
        emb_dim=emb_dim,
        n_heads=n_heads,
        n_layers=2,
        drop_rate=0.0,
    )
    torch.manual_seed(0)
    models = {impl: GPTModel(cfg.with_(attn_impl=impl)).to(device) for impl in ("teaching", "sdpa")}
    models["sdpa"].load_state_dict(models["teaching"].state_dict())
    print(
        f"\nGPTModel, 2 blocks, vocab 1024, forward+backward:{'teaching':>14}{'sdpa':>14}{'teaching / sdpa':>17}"
    )
    for batch, n_tokens in shapes:
        ids = torch.randint(0, cfg.vocab_size, (batch, n_tokens), device=device)
        best = {impl: float("inf") for impl in models}
        for _ in range(rounds):
            for impl, model in models.items():
                best[impl] = min(best[impl], time_one(model, ids, True, repeats, wall))
        print(
            f"{'':<32}{f'{batch} x {n_tokens}':>16}{best['teaching'] * 1e3:>11.2f} ms{best['sdpa'] * 1e3:>11.2f} ms{best['teaching'] / best['sdpa']:>16.2f}x"
        )


if __name__ == "__main__":
    main()
