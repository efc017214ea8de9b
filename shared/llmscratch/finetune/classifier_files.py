"""A fine-tuned classifier on disk: ``save_classifier`` / ``load_classifier`` (safetensors, atomic).

The file holds the weights (all of them, or with ``trainable_only=True`` just the fine-tuned ones,
a small file that loads into the same pretrained backbone) and the label names as metadata.
Loading goes through ``training.safe_files.read_safetensors``, so a pickle is refused and a
truncated file is named as such.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from safetensors.torch import save
from torch import nn

from ..fileio import atomic_write
from ..training.safe_files import read_safetensors
from .classify import add_classification_head, model_device, num_classes_of

__all__ = ["load_classifier", "save_classifier"]


def save_classifier(
    model: nn.Module,
    path: str | Path,
    *,
    label_names: Sequence[str] = ("ham", "spam"),
    trainable_only: bool = False,
) -> Path:
    """Write the classifier's weights to a safetensors file (atomically: never half-written).

    ``trainable_only=True`` saves just the parameters that were fine-tuned (a small file that needs
    the same pretrained backbone to load into).
    """
    if len(label_names) != num_classes_of(model):
        raise ValueError(
            f"label_names has {len(label_names)} names but the model's head has {num_classes_of(model)} classes"
        )
    if trainable_only:
        wanted = {name for name, p in model.named_parameters() if p.requires_grad}
        state = {k: v for k, v in model.state_dict().items() if k in wanted}
    else:
        state = model.state_dict()
    tensors, seen = {}, set()
    for name, tensor in state.items():
        tensor = tensor.detach().cpu().contiguous()
        key = (tensor.data_ptr(), tensor.numel())
        tensors[name] = tensor.clone() if key in seen else tensor  # safetensors refuses shared memory
        seen.add(key)
    metadata = {"label_names": json.dumps(list(label_names)), "trainable_only": json.dumps(trainable_only)}
    path = Path(path)
    with atomic_write(path, "wb") as f:
        f.write(save(tensors, metadata=metadata))
    return path


def load_classifier(model: nn.Module, path: str | Path) -> tuple[nn.Module, list[str]]:
    """Load a file written by ``save_classifier`` into ``model``; return ``(model, label_names)``.

    If the model still has its language-model head, a classification head of the saved size is
    added first (``add_classification_head``), so a freshly built backbone can be passed in. The file
    goes through ``safe_files.read_safetensors``: a pickle is refused and a truncated file named as
    such (``CheckpointError``).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no classifier file at {path}; write one with save_classifier(model, path)")
    state, metadata = read_safetensors(
        path
    )  # the same checks as every loader: pickle refused, truncation named
    if "label_names" not in metadata:
        raise ValueError(f"{path} has no label_names metadata: it was not written by save_classifier")
    label_names = json.loads(metadata["label_names"])
    if num_classes_of(model) != len(label_names):
        add_classification_head(model, len(label_names))
    device = model_device(model)
    state = {k: v.to(device) for k, v in state.items()}
    if json.loads(metadata.get("trainable_only", "false")):
        result = model.load_state_dict(state, strict=False)
        if result.unexpected_keys:
            raise ValueError(f"{path} holds weights the model does not have: {result.unexpected_keys[:5]}")
    else:
        model.load_state_dict(state, strict=True)
    return model, label_names
