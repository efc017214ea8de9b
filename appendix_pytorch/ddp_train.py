"""Train a tiny classifier on several processes at once with DistributedDataParallel (DDP).

Every process (a *rank*) holds a full copy of the model and sees a different slice of each epoch's
data (``DistributedSampler``). During ``backward()`` DDP averages the gradients across all ranks, so
every copy takes the same optimizer step and the copies stay identical, while each process only did
``1 / world_size`` of the work. This file is launched by ``torchrun``, which starts the processes
and tells each one who it is through environment variables (``RANK``, ``LOCAL_RANK``,
``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``):

    torchrun --nproc_per_node=2 --master_addr=127.0.0.1 --master_port=29500 ddp_train.py --epochs 5

(``python -m torch.distributed.run`` is the same launcher as ``torchrun``.) On GPUs the processes
talk through NCCL, one GPU per process; on CPUs through gloo. The task is deliberately tiny (2-D
points, an MLP with two small hidden layers) so that two CPU processes finish in seconds; the recipe is the same for a
GPT on eight GPUs.

With ``--out-dir DIR`` every rank writes ``DIR/rank<r>.json``: the loss of each epoch, the sample
indices it trained on in the first epoch, its accuracy on fresh validation points, its training
time and its final parameters, flattened. The appendix notebook and ``tests/integration/test_ddp.py``
read these files to check that all ranks end with identical parameters, that they split the data
between them, and that the loss falls.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler

# The script's folder is on sys.path when Python runs it, so the appendix's re-export file is found.
# The distributed helpers (who am I, set-up, tear-down, the exit work-around) live in llmscratch.training.distributed.
from previous_chapters import distributed, seed_everything


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Train a tiny MLP with DistributedDataParallel (launch with torchrun).")
    parser.add_argument("--epochs", type=int, default=5, help="passes over the training data (default: 5)")
    parser.add_argument("--batch-size", type=int, default=32, help="samples per step *per process* (default: 32)")
    parser.add_argument("--n-samples", type=int, default=1024, help="size of the synthetic training set (default: 1024)")
    parser.add_argument("--lr", type=float, default=0.003, help="Adam learning rate (default: 0.003)")
    parser.add_argument("--seed", type=int, default=123, help="seeds the data, the model and the shuffling (default: 123)")
    parser.add_argument("--out-dir", type=Path, default=None, help="if given, every rank writes rank<r>.json here")
    args = parser.parse_args(argv)
    for name in ("epochs", "batch_size", "n_samples"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    return args


def make_xor_data(n_samples: int, seed: int) -> TensorDataset:
    """2-D Gaussian points labelled 1 where both coordinates have the same sign (an XOR pattern).

    No straight line separates the classes, so the model needs its hidden layer. Every rank calls
    this with the same seed and so holds the same full dataset; the sampler decides who uses what.
    """
    generator = torch.Generator().manual_seed(seed)
    features = torch.randn(n_samples, 2, generator=generator)  # (N, 2)
    labels = (features[:, 0] * features[:, 1] > 0).long()  # (N,)
    return TensorDataset(features, labels)


def make_model(hidden: int = 32) -> nn.Module:
    return nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 2))


def flat_parameters(model: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()]).cpu()  # (n_params,)


def train(args: argparse.Namespace, rank: int, world_size: int, device: torch.device) -> dict:
    """The usual training loop; the DDP-specific lines are marked ``# DDP``."""
    seed_everything(args.seed)  # same data and same initial weights on every rank
    dataset = make_xor_data(args.n_samples, args.seed)
    sampler = DistributedSampler(dataset, num_replicas=world_size, rank=rank, shuffle=True, seed=args.seed)  # DDP
    loader = DataLoader(dataset, batch_size=args.batch_size, sampler=sampler)  # no shuffle=: the sampler shuffles

    model = make_model().to(device)
    model = DDP(model, device_ids=[device.index] if device.type == "cuda" else None)  # DDP: syncs weights, then grads
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()

    epoch_losses, first_epoch_indices = [], list(sampler)
    start = time.perf_counter()
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)  # DDP: a different shuffle each epoch, the same one on every rank
        model.train()
        loss_sum, n_seen = 0.0, 0  # on this rank
        for features, labels in loader:
            features, labels = features.to(device), labels.to(device)
            loss = loss_fn(model(features), labels)
            optimizer.zero_grad()
            loss.backward()  # DDP: gradients are averaged across ranks here
            optimizer.step()
            loss_sum, n_seen = loss_sum + loss.item() * len(labels), n_seen + len(labels)
        totals = torch.tensor([loss_sum, n_seen], dtype=torch.float64, device=device)  # NCCL needs GPU tensors
        dist.all_reduce(totals)  # DDP: sum over ranks, so every rank knows the global mean loss
        epoch_losses.append((totals[0] / totals[1]).item())
        distributed.print0(f"epoch {epoch + 1}/{args.epochs}: mean train loss {epoch_losses[-1]:.4f} (over {int(totals[1])} samples on {world_size} ranks)")
    train_seconds = time.perf_counter() - start
    distributed.print0(f"training took {train_seconds:.2f} s")

    model.eval()
    with torch.no_grad():  # fresh points from the same distribution, identical on every rank
        features, labels = make_xor_data(args.n_samples, args.seed + 1).tensors
        # DDP: model.module is the plain model inside the wrapper; no communication needed here
        accuracy = (model.module(features.to(device)).argmax(dim=-1) == labels.to(device)).float().mean().item()
    params = flat_parameters(model.module)
    return {
        "rank": rank,
        "world_size": world_size,
        "backend": dist.get_backend(),
        "device": str(device),
        "epoch_losses": epoch_losses,
        "val_accuracy": accuracy,
        "train_seconds": train_seconds,
        "first_epoch_indices": first_epoch_indices,
        "n_params": params.numel(),
        "params_sha256": hashlib.sha256(params.numpy().tobytes()).hexdigest(),
        "params": params.tolist(),
    }


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    distributed.require_torchrun("torchrun --nproc_per_node=2 ddp_train.py --epochs 5")
    # Joins the process group: NCCL with one GPU per process when CUDA is available, else gloo on
    # the CPU (Apple's MPS has no multi-process backend). The rendezvous address comes from the
    # environment torchrun set; a crashed peer becomes an error after a minute, not a silent hang.
    ctx = distributed.setup()
    try:
        result = train(args, ctx.rank, ctx.world_size, ctx.device)
        if args.out_dir is not None:
            args.out_dir.mkdir(parents=True, exist_ok=True)
            (args.out_dir / f"rank{ctx.rank}.json").write_text(json.dumps(result))
    finally:
        distributed.teardown()  # always tear the process group down, even after an error


if __name__ == "__main__":
    main()
    distributed.exit_process(0)  # skips a gloo shutdown crash; the reason is in its docstring
