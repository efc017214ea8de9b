"""Writing files so that a crash never leaves a half-written one: one helper for every writer.

Downloads, saved tokenizers and training checkpoints all go through ``atomic_write``: the bytes go
to a temporary file *in the target's folder*, are flushed to disk, and only then is the temporary
file renamed over the target with ``os.replace``. A rename within one file system is atomic, so a
reader (or a resumed run) sees either the old complete file or the new complete file, never a
mixture; a process killed mid-write leaves the old file untouched and, at worst, a ``.part`` file.
The temporary file's name records the host and process that wrote it, so the next write to the
same target (or ``remove_stale_parts``) deletes the leftovers of writers that are gone: a killed
1.5 GB checkpoint save does not stay on disk forever.

``sha256_file`` is the checksum the download registry and the GGUF loader verify.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import socket
import tempfile
import time
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
    remove_stale_parts(path)
    fd, tmp_name = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.{_HOST}-{os.getpid()}-", suffix=".part"
    )
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


_HOST = socket.gethostname().replace(os.sep, "_")
LEGACY_PART_AGE_S = 3600  # a .part without host and pid (older versions) is stale after an hour


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # it exists but is someone else's (or we cannot tell): leave its file alone
    return True


def remove_stale_parts(path: str | Path) -> list[Path]:
    """Delete the ``.part`` files that killed writers left for ``path``; return what was removed.

    A part is stale when the process named in it (``.<name>.<host>-<pid>-<random>.part``, this
    host) has ended; a part in the older name format (no host, no pid) when it is more than
    ``LEGACY_PART_AGE_S`` old. Parts of live writers, and of writers on other hosts sharing the
    folder, are left alone.
    """
    path = Path(path)
    prefix = f".{path.name}."
    removed = []
    for part in path.parent.glob(f"{glob.escape(prefix)}*.part"):
        fields = part.name[len(prefix) : -len(".part")].rsplit("-", 2)  # host (may hold '-'), pid, random
        if len(fields) == 3 and fields[1].isdigit():
            stale = fields[0] == _HOST and not _pid_alive(int(fields[1]))
        else:
            try:
                stale = time.time() - part.stat().st_mtime > LEGACY_PART_AGE_S
            except FileNotFoundError:
                continue
        if stale:
            part.unlink(missing_ok=True)
            removed.append(part)
    return removed


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
