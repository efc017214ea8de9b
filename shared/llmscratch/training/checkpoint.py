"""Saving and resuming training: one safetensors file, written atomically, that never runs code.

``save_checkpoint(path, model, optimizer, history=..., schedule=..., extra=...)`` writes *one*
``.safetensors`` file holding everything a resumed run needs:

- the model's weights (``model.<name>``; a tied tensor is stored once and its alias recorded),
- the optimizer's tensors (``optim.<param index>.<name>``, e.g. Adam's moment estimates) with its
  hyper-parameters (learning rate, betas, ...) in the metadata,
- the RNG states of PyTorch (CPU and every GPU), Python's ``random`` and NumPy,
- in the metadata (JSON text): the ``History`` with its position (step, epoch, batch in epoch,
  tokens seen), the learning-rate schedule, the model config and anything in ``extra``.

**Atomic.** The bytes go through ``fileio.atomic_write`` (temporary file, fsync, rename), so a run
killed mid-save leaves the previous checkpoint intact.

**Safe, with clear errors.** Every file is read through ``safe_files`` (a pickle is refused, a
truncated file named with its sizes); a checkpoint from another configuration raises
``CheckpointError`` listing the missing and unexpected keys and every mismatching shape.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import save
from torch import nn

from ..fileio import atomic_write
from .history import History
from .safe_files import CheckpointError, checked_header, load_state_dict_file, read_safetensors
from .schedules import schedule_from_dict

FORMAT = "llmscratch-checkpoint-1"
_PICKLE_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt", ".pkl")


@dataclass
class Checkpoint:
    """What ``load_checkpoint`` restored besides the weights (the model and optimizer are updated in place)."""

    history: Any = None  # a train.History, or None if the checkpoint has none
    schedule: Any = None  # the learning-rate schedule object, or None
    config: dict | None = None  # the model config the checkpoint was saved from
    extra: dict = field(default_factory=dict)


def _unwrap(model: nn.Module) -> nn.Module:
    return model.module if hasattr(model, "module") and isinstance(model.module, nn.Module) else model  # DDP


def _config_dict(model: nn.Module) -> dict | None:
    cfg = getattr(model, "cfg", None)
    return asdict(cfg) if is_dataclass(cfg) else None


def model_tensors(model: nn.Module) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """The state dict with each shared tensor once, plus ``{alias: stored name}`` for the others.

    GPT-2 ties ``out_head.weight`` to ``emb.tok_emb.weight``; safetensors refuses to store one tensor
    under two names, so the second name is recorded as an alias instead.
    """
    tensors, aliases, seen = {}, {}, {}
    for name, tensor in _unwrap(model).state_dict().items():
        key = (
            tensor.untyped_storage().data_ptr(),
            tensor.storage_offset(),
            tuple(tensor.shape),
            tensor.dtype,
        )
        if tensor.numel() and key in seen:
            aliases[name] = seen[key]
            continue
        seen[key] = name
        tensors[name] = tensor.detach().contiguous().cpu()
    return tensors, aliases


def _rng_state() -> tuple[dict[str, torch.Tensor], dict]:
    tensors = {"rng.torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        for i, state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng.cuda.{i}"] = state
    meta: dict[str, Any] = {"python": random.getstate()}
    try:
        name, keys, pos, has_gauss, cached = np.random.get_state()
        meta["numpy"] = [name, keys.tolist(), int(pos), int(has_gauss), float(cached)]
    except ImportError:
        pass
    return tensors, meta


def _set_rng_state(tensors: dict[str, torch.Tensor], meta: dict) -> None:
    torch.set_rng_state(tensors["rng.torch"])
    if torch.cuda.is_available():
        states = [tensors[k] for k in sorted(k for k in tensors if k.startswith("rng.cuda."))]
        if states and len(states) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(states)
    if "python" in meta:
        version, state, gauss = meta["python"]
        random.setstate((version, tuple(state), gauss))
    if "numpy" in meta:
        name, keys, pos, has_gauss, cached = meta["numpy"]
        np.random.set_state((name, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))


def _optimizer_tensors(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    state = optimizer.state_dict()
    tensors, scalars = {}, {}
    for index, values in state["state"].items():
        for name, value in values.items():
            if torch.is_tensor(value):
                tensors[f"optim.{index}.{name}"] = value.detach().contiguous().cpu()
            else:
                scalars.setdefault(str(index), {})[name] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def _load_optimizer(optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], meta: dict) -> None:
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, index, name = key.split(".", 2)
            state.setdefault(int(index), {})[name] = value
    for index, values in meta.get("scalars", {}).items():
        state.setdefault(int(index), {}).update(values)
    groups = [
        {k: tuple(v) if isinstance(v, list) and k != "params" else v for k, v in g.items()}
        for g in meta["param_groups"]
    ]
    mine = optimizer.state_dict()["param_groups"]
    if [len(g["params"]) for g in groups] != [len(g["params"]) for g in mine]:
        raise CheckpointError(
            f"the checkpoint's optimizer has parameter groups of sizes {[len(g['params']) for g in groups]}, this "
            f"optimizer {[len(g['params']) for g in mine]}: build the optimizer the same way as the saved run"
        )
    optimizer.load_state_dict({"state": state, "param_groups": groups})


def save_checkpoint(
    path: str | Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    *,
    history: Any = None,
    schedule: Any = None,
    extra: dict | None = None,
    save_rng: bool = True,
) -> Path:
    """Write model, optimizer, RNG states, history/position, schedule and config to one file, atomically.

    ``history`` is a ``History``; ``schedule`` an object with ``to_dict()`` (see ``schedules``);
    ``extra`` any JSON-ready dict (e.g. the command-line options of the run). Returns the path.
    """
    path = Path(path)
    tensors, aliases = model_tensors(model)
    tensors = {f"model.{k}": v for k, v in tensors.items()}
    meta: dict[str, Any] = {"aliases": aliases, "config": _config_dict(_unwrap(model)), "extra": extra or {}}
    if optimizer is not None:
        opt_tensors, meta["optimizer"] = _optimizer_tensors(optimizer)
        tensors.update(opt_tensors)
    if save_rng:
        rng_tensors, meta["rng"] = _rng_state()
        tensors.update(rng_tensors)
    if history is not None:
        meta["history"] = history.to_dict()
    if schedule is not None:
        meta["schedule"] = schedule.to_dict()
    data = save(tensors, metadata={"format": FORMAT, "llmscratch": json.dumps(meta)})
    with atomic_write(path, "wb") as f:
        f.write(data)
    return path


def checkpoint_extra(path: str | Path) -> dict:
    """The ``extra`` dict of a ``save_checkpoint`` file, read from its header alone (no tensor is loaded).

    ``pretrain --resume`` compares the options stored there with its own before loading anything.
    """
    path = Path(path)
    meta = checked_header(path).get("__metadata__") or {}
    if meta.get("format") != FORMAT:
        raise CheckpointError(
            f"{path} is a safetensors file but not an llmscratch training checkpoint (no {FORMAT!r} marker)"
        )
    return json.loads(meta["llmscratch"]).get("extra", {})


def check_state_dict(
    model: nn.Module, state: dict[str, torch.Tensor], *, source: str = "the checkpoint"
) -> None:
    """Raise ``CheckpointError`` listing missing/unexpected keys and mismatching shapes, if any."""
    expected = {k: tuple(v.shape) for k, v in _unwrap(model).state_dict().items()}
    got = {k: tuple(v.shape) for k, v in state.items()}
    missing = sorted(set(expected) - set(got))
    unexpected = sorted(set(got) - set(expected))
    shapes = [
        f"{k}: {source} {got[k]} vs model {expected[k]}"
        for k in sorted(set(got) & set(expected))
        if got[k] != expected[k]
    ]
    if missing or unexpected or shapes:
        parts = []
        if shapes:
            parts.append(
                f"{len(shapes)} shape mismatch(es): "
                + "; ".join(shapes[:8])
                + (" ..." if len(shapes) > 8 else "")
            )
        if missing:
            parts.append(f"{len(missing)} key(s) missing from {source}: {missing[:8]}")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected key(s): {unexpected[:8]}")
        raise CheckpointError(f"{source} does not fit this model. " + ". ".join(parts))


def _config_diff(saved: dict | None, model: nn.Module) -> str:
    mine = _config_dict(_unwrap(model))
    if not saved or not mine:
        return ""
    diff = [f"{k}={saved[k]!r} (model: {mine.get(k)!r})" for k in saved if saved[k] != mine.get(k)]
    return f" It was saved from a model with {', '.join(diff)}." if diff else ""


def load_checkpoint(
    path: str | Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    *,
    restore_rng: bool = True,
) -> Checkpoint:
    """Load a ``save_checkpoint`` file into ``model`` (and ``optimizer``); return the rest.

    Restores the RNG states too (``restore_rng``), so that dropout and shuffling continue as in the
    uninterrupted run. Raises ``CheckpointError`` for a damaged file or one from another model
    configuration (naming the keys and shapes that differ and the config fields).
    """
    tensors, header_meta = read_safetensors(path)
    if header_meta.get("format") != FORMAT:
        raise CheckpointError(
            f"{path} is a safetensors file but not an llmscratch training checkpoint (no {FORMAT!r} marker); "
            "for plain weights use load_weights(path, model)"
        )
    meta = json.loads(header_meta["llmscratch"])
    state = {k.removeprefix("model."): v for k, v in tensors.items() if k.startswith("model.")}
    for alias, name in meta.get("aliases", {}).items():
        if name in state:
            state[alias] = state[name]
    try:
        check_state_dict(model, state, source=f"checkpoint {Path(path).name}")
    except CheckpointError as err:
        raise CheckpointError(str(err) + _config_diff(meta.get("config"), model)) from None
    target = _unwrap(model)
    device = next(target.parameters()).device
    target.load_state_dict({k: v.to(device) for k, v in state.items()})
    if optimizer is not None:
        if "optimizer" not in meta:
            raise CheckpointError(
                f"{path} holds no optimizer state (saved with optimizer=None); pass optimizer=None to load the weights only"
            )
        _load_optimizer(
            optimizer,
            {k: v.to(device) for k, v in tensors.items() if k.startswith("optim.")},
            meta["optimizer"],
        )
    if restore_rng and "rng" in meta:
        _set_rng_state(tensors, meta["rng"])
    return Checkpoint(
        history=History.from_dict(meta["history"]) if "history" in meta else None,
        schedule=schedule_from_dict(meta["schedule"]) if "schedule" in meta else None,
        config=meta.get("config"),
        extra=meta.get("extra", {}),
    )


def save_weights(path: str | Path, model: nn.Module, *, metadata: dict[str, str] | None = None) -> Path:
    """The model's weights alone, as safetensors (with its config as JSON metadata), atomically.

    ``metadata``: extra string entries stored beside the config (e.g. what ``llmscratch.chat``
    needs to rebuild the model and its tokenizer); read them back with ``read_safetensors``.
    """
    tensors, aliases = model_tensors(model)
    meta = {"aliases": json.dumps(aliases), "config": json.dumps(_config_dict(_unwrap(model)))}
    for key, value in (metadata or {}).items():
        if key in meta or not isinstance(value, str):
            raise ValueError(
                f"metadata[{key!r}] must be a str and not 'aliases' or 'config' (got {type(value).__name__})"
            )
        meta[key] = value
    with atomic_write(path, "wb") as f:
        f.write(save(tensors, metadata=meta))
    return Path(path)


def weights_config(path: str | Path) -> dict | None:
    """The model config stored in a ``save_weights`` file (None if it has none)."""
    _, meta = read_safetensors(path)
    return json.loads(meta["config"]) if meta.get("config") else None


def load_weights(path: str | Path, model: nn.Module) -> nn.Module:
    """Load a ``save_weights`` file (or a pickled state dict, safely) into ``model``; returns it."""
    path = Path(path)
    if path.suffix in _PICKLE_SUFFIXES:
        state, saved_cfg = load_state_dict_file(path), None
    else:
        state, meta = read_safetensors(path)
        saved_cfg = json.loads(meta["config"]) if meta.get("config") else None
        for alias, name in json.loads(meta.get("aliases", "{}")).items():
            state[alias] = state[name]
    try:
        check_state_dict(model, state, source=path.name)
    except CheckpointError as err:
        raise CheckpointError(str(err) + _config_diff(saved_cfg, model)) from None
    device = next(_unwrap(model).parameters()).device
    _unwrap(model).load_state_dict({k: v.to(device) for k, v in state.items()})
    return model
