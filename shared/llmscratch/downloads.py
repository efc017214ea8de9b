"""The download registry: every file a reader may fetch at run time, with its checksum.

Each ``Resource`` names a URL, the SHA-256 and size of the expected bytes, and the *offline
alternative* that the error message points to. ``fetch(name)`` then:

1. returns the cached copy if its checksum is right (no network at all);
2. refuses at once with ``DownloadError`` in offline mode (``LLMSCRATCH_OFFLINE=1``);
3. otherwise streams the file into a temporary file *in the cache folder*, hashing as it goes,
   checks size and SHA-256, and only then renames it into place (``os.replace`` is atomic), so a
   dropped connection, a wrong file or Ctrl-C never leaves a half-written file under the real name.
   Network errors are retried with a short back-off; a checksum mismatch is not (it would not change).

Files with no published checksum (the UCI SMS Spam Collection, say) register ``sha256=None`` and a
``check`` function that validates the bytes by structure instead; ``check`` runs on the temporary
file before the rename and on a cached copy before it is trusted. The registry knows no data set:
the module that owns a file registers it with ``register(Resource(...))`` (``assets``: The Verdict;
``text.gpt2``: GPT-2's tokenizer files; ``finetune.spam_data``: UCI; ``finetune.instruct_data``: Alpaca).

Bundled text that needs no download lives in ``assets``; this module is only for what we may not
or cannot ship. (Named ``downloads``, not ``datasets``, so that it is never confused with
HuggingFace's ``datasets`` library.)
"""

from __future__ import annotations

import hashlib
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import settings
from .fileio import atomic_write, sha256_file

__all__ = ["REGISTRY", "DownloadError", "Resource", "fetch", "register", "sha256_file"]


@dataclass(frozen=True)
class Resource:
    """One downloadable file: where it is, what it must hash to, and what to use instead offline."""

    name: str
    url: str
    sha256: str | None  # None only for files that publish no checksum: then ``check`` is required
    size: int | None  # bytes; None when unknown (no checksum either)
    filename: str
    offline: str  # the offline alternative, quoted in the error message
    check: Callable[[Path], None] | None = None  # raises ValueError if the file is not what we expect

    def __post_init__(self) -> None:
        if self.sha256 is None and self.check is None:
            raise ValueError(
                f"resource {self.name!r} has neither a sha256 nor a check function: nothing would verify it"
            )

    def verify(self, path: Path, *, received: int | None = None, digest: str | None = None) -> None:
        """Raise ``DownloadError`` unless ``path`` holds the expected bytes."""
        digest = digest or (sha256_file(path) if self.sha256 else None)
        received = received if received is not None else path.stat().st_size
        if (self.size is not None and received != self.size) or (
            self.sha256 is not None and digest != self.sha256
        ):
            raise DownloadError(
                f"{self.url} gave {received} bytes with SHA-256 {digest}; "
                f"expected {self.size} bytes with SHA-256 {self.sha256}. "
                "The file changed or was corrupted; nothing was saved."
            )
        if self.check is not None:
            try:
                self.check(path)
            except ValueError as err:
                raise DownloadError(
                    f"{self.url}: the file is not what {self.name!r} should be ({err}); nothing was saved."
                ) from err


class DownloadError(RuntimeError):
    """A file could not be fetched (offline, unreachable, truncated or wrong checksum)."""


REGISTRY: dict[str, Resource] = {}  # filled by the modules that own the files, through ``register``


def _download(resource: Resource, target: Path, timeout: float) -> None:
    """One attempt: stream into a temp file beside ``target``, verify, rename. Never leaves debris.

    ``atomic_write`` does the temp-file-and-rename; raising inside its block discards the temp file.
    """
    digest, received = hashlib.sha256(), 0
    request = urllib.request.Request(resource.url, headers={"User-Agent": "llmscratch"})
    with atomic_write(target, "wb") as out, urllib.request.urlopen(request, timeout=timeout) as response:
        announced = response.headers.get("Content-Length")
        while block := response.read(1 << 16):
            out.write(block)
            digest.update(block)
            received += len(block)
        if announced is not None and received != int(announced):
            raise ConnectionError(f"truncated transfer: got {received} of {announced} bytes")
        out.flush()
        resource.verify(Path(out.name), received=received, digest=digest.hexdigest())


def register(resource: Resource) -> Resource:
    """Add a file to ``REGISTRY`` (chapters add their own: GPT-2 weights, the spam data, ...)."""
    known = REGISTRY.get(resource.name)
    if known is not None and known != resource:
        raise ValueError(f"a different resource is already registered as {resource.name!r}: {known}")
    REGISTRY[resource.name] = resource
    return resource


def _cached_ok(resource: Resource, path: Path) -> bool:
    try:
        resource.verify(path)
        return True
    except DownloadError:
        return False


def _name_not_resolved(err: BaseException) -> bool:
    reason = getattr(err, "reason", err)  # urllib wraps the socket error in URLError.reason
    return isinstance(reason, socket.gaierror)


def host_resolves(host: str) -> bool:
    """True when ``host`` has an address (a DNS answer, or a literal IP). One quick look, no retries."""
    if not host:
        return False
    try:
        socket.getaddrinfo(host, None)
        return True
    except (socket.gaierror, UnicodeError):
        return False


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
    if target.is_file() and _cached_ok(resource, target):
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
            if _name_not_resolved(err):
                break  # no DNS (offline): waiting and asking again will not help
            if attempt + 1 < retries:
                time.sleep(backoff * 2**attempt)
    raise DownloadError(
        f"could not download {resource.name!r} from {resource.url} after {attempt + 1} "
        f"attempt(s): {last_error}. Offline alternative: {resource.offline}."
    ) from last_error
