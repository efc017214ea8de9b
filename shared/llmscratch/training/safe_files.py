"""Reading weight files safely: safetensors with clear errors, PyTorch pickles only on request.

safetensors files hold tensors and strings only: loading one cannot run code. ``read_safetensors``
checks the header first (``checked_header``): a PyTorch pickle under any name is refused and named
(``pickle_kind``), a file shorter than its header says is reported as truncated with both sizes.
For PyTorch's pickle-based files (``.pt``, ``.pth``, ``.bin``), ``load_state_dict_file`` uses
``torch.load(weights_only=True)``, which refuses any pickle that would call a function, and says so.
Every failure is one ``CheckpointError``.
"""

from __future__ import annotations

import json
import pickle
import struct
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

__all__ = ["CheckpointError", "checked_header", "load_state_dict_file", "pickle_kind", "read_safetensors"]


class CheckpointError(RuntimeError):
    """A checkpoint or weights file that cannot be loaded (truncated, corrupt, unsafe or mismatched)."""


def pickle_kind(head: bytes) -> str | None:
    """What kind of PyTorch pickle a file starting with ``head`` is, or None if it is not one.

    ``torch.save`` writes a zip archive (``PK\\x03\\x04``) around a pickle; older files are a bare
    pickle, which starts with the PROTO opcode ``\\x80`` and a protocol number 2-5.

    >>> pickle_kind(b"PK\\x03\\x04..."), pickle_kind(b"\\x80\\x02}q"), pickle_kind(b"\\x10\\x00\\x00\\x00")
    ('torch.save zip archive', 'pickle', None)
    """
    if head.startswith(b"PK\x03\x04"):
        return "torch.save zip archive"
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return "pickle"
    return None


def checked_header(path: Path) -> dict:
    """The JSON header of a safetensors file, after checking it is one and is complete."""
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(8)
        kind = pickle_kind(head)
        if kind:
            raise CheckpointError(
                f"{path} is a PyTorch pickle ({kind}), not safetensors; refused, because loading a pickle can run code. "
                "Convert it once, in a process you trust: safetensors.torch.save_file(torch.load(path, "
                "weights_only=True), 'model.safetensors')"
            )
        if len(head) < 8:
            raise CheckpointError(f"{path} is truncated or not a safetensors file: only {size} bytes")
        (header_len,) = struct.unpack("<Q", head)
        if 8 + header_len > size:
            raise CheckpointError(
                f"{path} is truncated or not a safetensors file: its header claims {header_len} bytes but the file "
                f"has {size}; download or save it again"
            )
        try:
            header = json.loads(f.read(header_len))
        except ValueError as err:
            raise CheckpointError(f"{path} is not a safetensors file (unreadable header: {err})") from err
    if not isinstance(header, dict):
        raise CheckpointError(f"{path} is not a safetensors file (its header is not a JSON object)")
    ends = [v["data_offsets"][1] for k, v in header.items() if k != "__metadata__" and isinstance(v, dict)]
    expected = 8 + header_len + max(ends, default=0)
    if size < expected:
        raise CheckpointError(
            f"{path} is truncated: it has {size:,} bytes but its header describes {expected:,}; "
            "the download or save was interrupted, so fetch or save it again"
        )
    return header


def read_safetensors(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """All tensors and the metadata of a safetensors file, with a clear error if it is damaged.

    The header says where each tensor's bytes end; a file shorter than that was cut off (an
    interrupted download or copy), and the error gives both sizes. A PyTorch pickle is named as
    such and refused: loading one can run code (``load_state_dict_file`` is the explicit way).
    """
    path = Path(path)
    header = checked_header(path)

    try:
        tensors = load_file(path)
    except SafetensorError as err:
        raise CheckpointError(f"{path} is a damaged safetensors file: {err}") from err
    return tensors, header.get("__metadata__") or {}


def load_state_dict_file(path: str | Path) -> dict[str, torch.Tensor]:
    """A state dict from a PyTorch pickle file (``torch.save``), loaded with ``weights_only=True``.

    A pickle can run any code while it is loaded; ``weights_only=True`` only allows tensors and
    plain containers, and this turns its refusal into a clear ``CheckpointError``.
    """
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise CheckpointError(
            f"refused to load {path}: it is a pickle that would run code or build objects other than tensors "
            f"(torch.load(weights_only=True) blocked it). Only load files you trust; prefer safetensors. Details: "
            f"{str(err).splitlines()[0]}"
        ) from None
    except (RuntimeError, EOFError) as err:
        raise CheckpointError(
            f"{path} is truncated or not a PyTorch file: {str(err).splitlines()[0]}"
        ) from None
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        raise CheckpointError(
            f"{path} does not hold a state dict (name -> tensor) but a {type(state).__name__}"
        )
    return state
