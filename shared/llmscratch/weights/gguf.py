"""GGUF, llama.cpp's single-file model format, read: bytes to named tensors (dequantized) and metadata.

A GGUF file is, in order (all integers little-endian):

1. a header: the magic ``b"GGUF"``, a ``uint32`` version (2 or 3), the number of tensors and the
   number of metadata entries (``uint64`` each);
2. the metadata: ``key -> value`` pairs. A key is a string (``uint64`` length + UTF-8 bytes); a
   value is a ``uint32`` type code and the value (numbers, bools, strings, or arrays of them). The
   model's configuration (``llama.block_count`` ...) and its whole tokenizer live here;
3. the tensor table: per tensor its name, number of dimensions, the dimensions (``uint64``, the
   *fastest-varying first*, so ``[576, 49152]`` is a ``(49152, 576)`` matrix in PyTorch's order),
   the ggml type code and the offset of its data;
4. padding up to ``general.alignment`` (32 by default), then the tensor data; each tensor's offset
   is relative to that start and aligned too.

Quantized types store blocks of 32 values (this module dequantizes the two this model uses, plus
F32 and F16; any other type gets an error naming it):

- ``Q8_0`` (34 bytes per block): a float16 scale ``d``, then 32 int8 ``q``: ``x = d * q``.
- ``Q4_1`` (20 bytes per block): a float16 scale ``d`` and minimum ``m``, then 16 bytes holding 32
  unsigned 4-bit values: value ``j`` is the low nibble of byte ``j``, value ``j + 16`` its high
  nibble, and ``x = d * q + m``.

``read_gguf`` parses header, metadata and tensor table with ``struct`` and maps the data with
NumPy (nothing is loaded until asked; ``with read_gguf(path) as gguf:`` unmaps it at the end). This module knows no model and no tokenizer: ``weights.llama``
turns the tensors into a ``LlamaModel`` and ``text.gguf_vocab`` the vocabulary into a tokenizer.
Everything is checked against ``gguf``, llama.cpp's own Python reader, in ``tests/unit/test_gguf.py``.
"""

from __future__ import annotations

import contextlib
import mmap
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

GGUF_MAGIC = b"GGUF"
DEFAULT_ALIGNMENT = 32
QK = 32  # values per quantization block (Q8_0, Q4_1)

# Metadata value types: code -> struct format (numbers) or a name (the variable-length ones).
_SCALARS = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_STRING, _ARRAY = 8, 9
_NUMPY_OF = {
    0: "<u1",
    1: "<i1",
    2: "<u2",
    3: "<i2",
    4: "<u4",
    5: "<i4",
    6: "<f4",
    10: "<u8",
    11: "<i8",
    12: "<f8",
}


@dataclass(frozen=True)
class GGMLType:
    """A tensor storage type: ``block_size`` values are stored in ``block_bytes`` bytes."""

    code: int
    name: str
    block_size: int
    block_bytes: int


# The ggml types a GGUF file may hold (code, name, values per block, bytes per block). We read the
# sizes of all of them (so the tensor table is checked) but dequantize only F32, F16, Q8_0, Q4_1.
GGML_TYPES: dict[int, GGMLType] = {
    t.code: t
    for t in [
        GGMLType(0, "F32", 1, 4),
        GGMLType(1, "F16", 1, 2),
        GGMLType(2, "Q4_0", 32, 18),
        GGMLType(3, "Q4_1", 32, 20),
        GGMLType(6, "Q5_0", 32, 22),
        GGMLType(7, "Q5_1", 32, 24),
        GGMLType(8, "Q8_0", 32, 34),
        GGMLType(9, "Q8_1", 32, 36),
        GGMLType(10, "Q2_K", 256, 84),
        GGMLType(11, "Q3_K", 256, 110),
        GGMLType(12, "Q4_K", 256, 144),
        GGMLType(13, "Q5_K", 256, 176),
        GGMLType(14, "Q6_K", 256, 210),
        GGMLType(15, "Q8_K", 256, 292),
        GGMLType(24, "I8", 1, 1),
        GGMLType(25, "I16", 1, 2),
        GGMLType(26, "I32", 1, 4),
        GGMLType(27, "I64", 1, 8),
        GGMLType(28, "F64", 1, 8),
        GGMLType(30, "BF16", 1, 2),
    ]
}
SUPPORTED_TYPES = ("F32", "F16", "Q8_0", "Q4_1")


@dataclass(frozen=True)
class GGUFTensorInfo:
    """One row of the tensor table. ``shape`` is in PyTorch/NumPy order (slowest dimension first)."""

    name: str
    shape: tuple[int, ...]
    ggml_type: GGMLType
    offset: int  # absolute byte offset in the file
    n_bytes: int


@dataclass
class GGUFFile:
    """A parsed GGUF file: ``metadata`` (dict), ``tensors`` (name -> info), and the mapped bytes."""

    path: Path
    version: int
    metadata: dict[str, Any]
    tensors: dict[str, GGUFTensorInfo]
    alignment: int
    data_offset: int
    _buffer: Any = field(repr=False, default=None)

    def raw(self, name: str) -> np.ndarray:
        """The stored bytes of one tensor (``uint8``, a view of the mapped file; nothing is copied)."""
        info = self._info(name)
        if self.closed:
            raise ValueError(
                f"{self.path.name} is closed: read its tensors before close() (or inside the with block)"
            )
        return np.frombuffer(self._buffer, dtype=np.uint8, count=info.n_bytes, offset=info.offset)

    @property
    def closed(self) -> bool:
        return self._buffer is None or self._buffer.closed

    def close(self) -> None:
        """Unmap the file and release its file handle (metadata and the tensor table stay readable)."""
        if self._buffer is not None and not self._buffer.closed:
            self._buffer.close()  # BufferError if a ``raw()`` view is still alive: drop it first

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def tensor(self, name: str) -> torch.Tensor:
        """One tensor dequantized to float32, in PyTorch's shape."""
        info = self._info(name)
        return dequantize(self.raw(name), info.ggml_type.name, info.shape)

    def _info(self, name: str) -> GGUFTensorInfo:
        try:
            return self.tensors[name]
        except KeyError:
            raise KeyError(
                f"{self.path.name} has no tensor {name!r}; it has e.g. {list(self.tensors)[:5]}"
            ) from None


class _Cursor:
    """Reads little-endian values from a buffer, turning a read past the end into a clear error."""

    def __init__(self, buffer, path: Path):
        self.buffer, self.pos, self.path = buffer, 0, path

    def _need(self, n: int, what: str) -> None:
        if self.pos + n > len(self.buffer):
            raise ValueError(
                f"{self.path.name} is truncated: it ends at byte {len(self.buffer):,} while reading {what} "
                f"(needs byte {self.pos + n:,}); download or copy the file again"
            )

    def scalar(self, fmt: str, what: str):
        size = struct.calcsize(fmt)
        self._need(size, what)
        (value,) = struct.unpack_from(fmt, self.buffer, self.pos)
        self.pos += size
        return value

    def string(self, what: str) -> str:
        n = self.scalar("<Q", what)
        self._need(n, what)
        raw = bytes(self.buffer[self.pos : self.pos + n])
        self.pos += n
        return raw.decode("utf-8", errors="replace")

    def value(self, type_code: int, what: str):
        if type_code in _SCALARS:
            return self.scalar(_SCALARS[type_code], what)
        if type_code == _STRING:
            return self.string(what)
        if type_code == _ARRAY:
            item_type = self.scalar("<I", what)
            count = self.scalar("<Q", what)
            if item_type in _NUMPY_OF:  # numbers: one NumPy read instead of a Python loop
                dtype = np.dtype(_NUMPY_OF[item_type])
                self._need(count * dtype.itemsize, what)
                values = np.frombuffer(self.buffer, dtype=dtype, count=count, offset=self.pos).tolist()
                self.pos += count * dtype.itemsize
                return values
            return [self.value(item_type, what) for _ in range(count)]
        raise ValueError(
            f"{self.path.name}: unknown metadata value type {type_code} in {what}; is the file corrupted?"
        )


def read_gguf(path: str | Path) -> GGUFFile:
    """Parse a GGUF file's header, metadata and tensor table; tensor data stays on disk (mapped)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no GGUF file at {path}")
    with open(path, "rb") as f:
        head = f.read(4)
        if head != GGUF_MAGIC:
            raise ValueError(
                f"{path.name} is not a GGUF file: it starts with {head!r}, a GGUF file with {GGUF_MAGIC!r}"
            )
        buffer = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        return _parse(path, buffer)
    except BaseException:
        with contextlib.suppress(BufferError):
            buffer.close()  # a file we refuse keeps no handle open
        raise


def _parse(path: Path, buffer: mmap.mmap) -> GGUFFile:
    cur = _Cursor(buffer, path)
    cur.pos = 4
    version = cur.scalar("<I", "the version")
    if version not in (2, 3):
        raise ValueError(f"{path.name}: GGUF version {version} is not supported (2 and 3 are)")
    n_tensors = cur.scalar("<Q", "the tensor count")
    n_kv = cur.scalar("<Q", "the metadata count")
    metadata: dict[str, Any] = {}
    for _ in range(n_kv):
        key = cur.string("a metadata key")
        metadata[key] = cur.value(cur.scalar("<I", f"the type of {key!r}"), f"metadata {key!r}")
    alignment = metadata.get("general.alignment", DEFAULT_ALIGNMENT)
    if (
        isinstance(alignment, bool)
        or not isinstance(alignment, int)
        or alignment < 1
        or alignment & (alignment - 1)
    ):
        raise ValueError(
            f"{path.name}: general.alignment = {alignment!r} is not a positive power of two (GGUF "
            f"aligns tensor data to one, {DEFAULT_ALIGNMENT} by default); the file is damaged"
        )
    table = []
    for _ in range(n_tensors):
        name = cur.string("a tensor name")
        n_dims = cur.scalar("<I", f"tensor {name!r}")
        dims = [cur.scalar("<Q", f"tensor {name!r}") for _ in range(n_dims)]
        type_code = cur.scalar("<I", f"tensor {name!r}")
        offset = cur.scalar("<Q", f"tensor {name!r}")
        table.append((name, dims, type_code, offset))
    data_offset = -(-cur.pos // alignment) * alignment  # round up to the alignment
    tensors = {}
    for name, dims, type_code, offset in table:
        # A type we do not know the size of can still be listed; only dequantizing it fails.
        gtype = GGML_TYPES.get(type_code, GGMLType(type_code, f"type code {type_code}", 1, 0))
        n_values = int(np.prod(dims)) if dims else 1
        n_bytes = n_values // gtype.block_size * gtype.block_bytes
        start = data_offset + offset
        if start + n_bytes > len(buffer):
            raise ValueError(
                f"{path.name} is truncated: tensor {name!r} needs bytes {start:,}..{start + n_bytes:,} "
                f"but the file has {len(buffer):,}; download or copy the file again"
            )
        tensors[name] = GGUFTensorInfo(name, tuple(int(d) for d in reversed(dims)), gtype, start, n_bytes)
    return GGUFFile(path, version, metadata, tensors, alignment, data_offset, buffer)


# --------------------------------------------------------------------------------------------
# Dequantization
# --------------------------------------------------------------------------------------------


def _blocks(raw: np.ndarray, block_bytes: int) -> np.ndarray:
    if raw.size % block_bytes:
        raise ValueError(f"{raw.size} bytes is not a whole number of {block_bytes}-byte blocks")
    return raw.reshape(-1, block_bytes)  # (n_blocks, block_bytes)


def dequantize_q8_0(raw: np.ndarray) -> np.ndarray:
    """Q8_0 bytes -> float32 values: per block of 32, a float16 scale ``d`` and int8 ``q``, ``x = d * q``.

    >>> block = np.concatenate([np.array([0.5], np.float16).view(np.uint8), np.arange(32, dtype=np.int8).view(np.uint8)])
    >>> dequantize_q8_0(block)[:4]
    array([0. , 0.5, 1. , 1.5], dtype=float32)
    """
    blocks = _blocks(raw, 34)  # (n, 34)
    d = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (n, 1)
    q = blocks[:, 2:].copy().view(np.int8).astype(np.float32)  # (n, 32)
    return (d * q).reshape(-1)


def dequantize_q4_1(raw: np.ndarray) -> np.ndarray:
    """Q4_1 bytes -> float32 values: per block a float16 scale ``d`` and minimum ``m``, 32 nibbles ``q``.

    Byte ``j`` of the 16 packed bytes holds value ``j`` in its low 4 bits and value ``j + 16`` in
    its high 4 bits; ``x = d * q + m`` with ``q`` in 0..15.

    >>> scale_min = np.array([2.0, -1.0], np.float16).view(np.uint8)
    >>> packed = np.array([0x10 * (15 - j) + j for j in range(16)], np.uint8)  # low j, high 15 - j
    >>> dequantize_q4_1(np.concatenate([scale_min, packed]))[[0, 1, 16, 17]]
    array([-1.,  1., 29., 27.], dtype=float32)
    """
    blocks = _blocks(raw, 20)  # (n, 20)
    d = blocks[:, 0:2].copy().view(np.float16).astype(np.float32)  # (n, 1)
    m = blocks[:, 2:4].copy().view(np.float16).astype(np.float32)  # (n, 1)
    packed = blocks[:, 4:]  # (n, 16)
    q = np.concatenate([packed & 0x0F, packed >> 4], axis=1).astype(
        np.float32
    )  # (n, 32): low nibbles, then high
    return (d * q + m).reshape(-1)


_DEQUANTIZERS = {
    "F32": lambda raw: raw.view(np.float32),
    "F16": lambda raw: raw.view(np.float16).astype(np.float32),
    "Q8_0": dequantize_q8_0,
    "Q4_1": dequantize_q4_1,
}


def dequantize(raw: np.ndarray, type_name: str, shape: tuple[int, ...]) -> torch.Tensor:
    """Stored bytes of type ``type_name`` -> a float32 tensor of ``shape`` (PyTorch order)."""
    if type_name not in _DEQUANTIZERS:
        raise NotImplementedError(
            f"ggml type {type_name} is not supported (this reader dequantizes {', '.join(SUPPORTED_TYPES)}); "
            f"re-quantize the model to one of them, e.g. with llama.cpp's llama-quantize ... Q8_0"
        )
    values = _DEQUANTIZERS[type_name](np.ascontiguousarray(raw))
    return torch.from_numpy(np.array(values, dtype=np.float32).reshape(shape))
