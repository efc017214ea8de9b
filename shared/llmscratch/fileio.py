"""Writing files so that a crash never leaves a half-written one: one helper for every writer.

Downloads, saved tokenizers and training checkpoints all go through ``atomic_write``: the bytes go
to a temporary file *in the target's folder*, are flushed to disk, and only then is the temporary
file renamed over the target with ``os.replace``. A rename within one file system is atomic, so a
reader (or a resumed run) sees either the old complete file or the new complete file, never a
mixture; a process killed mid-write leaves the old file untouched and, at worst, a ``.part`` file
that the next write ignores.

``sha256_file`` is the checksum the download registry and the GGUF loader verify.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "wb", *, encoding: str | None = None) -> Iterator[IO]:
    """Open a temporary file for writing; on a clean exit it replaces ``path`` atomically.

    If the ``with`` block raises, the temporary file is deleted and ``path`` is left as it was.

    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "note.txt"
    >>> with atomic_write(target, "w", encoding="utf-8") as f:
    ...     _ = f.write("hello")
    >>> target.read_text()
    'hello'
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write writes a whole new file: mode must be 'w' or 'wb', got {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    tmp = Path(tmp_name)
    os.close(fd)  # reopened by name, so ``f.name`` is the temporary file's path
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes it owner-only; a saved file gets the usual mode
    try:
        with open(tmp, mode, encoding=encoding) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())  # the bytes are on disk before the name points at them
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)  # only still there if something failed


def _read_umask() -> int:
    mask = os.umask(0)  # the only portable way to read it is to set it and put it back, so do it once
    os.umask(mask)
    return mask


_UMASK = _read_umask()  # read at import, before any thread could be creating files


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks (constant memory for any file size)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()
