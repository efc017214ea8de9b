"""downloads.fetch against a loopback HTTP server the test starts (never the internet).

Covers: a good download (cached, then served from cache with no request), a wrong checksum, a
truncated transfer, an unreachable host, offline mode, a corrupted cache entry; and after every
failure, nothing half-written is left in the cache folder.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import llmscratch
import llmscratch.assets  # noqa: F401  (each module that owns a file registers it: these four do)
import llmscratch.finetune.instruct_data  # noqa: F401
import llmscratch.finetune.spam_data  # noqa: F401
import llmscratch.text.gpt2  # noqa: F401
from llmscratch import downloads, fileio
from llmscratch.downloads import REGISTRY, DownloadError, Resource, fetch

PAYLOAD = b"Once upon a time, a clock kept time for a whole town.\n" * 200


class _Handler(BaseHTTPRequestHandler):
    requests_seen: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's naming)
        type(self).requests_seen.append(self.path)
        if self.path == "/good.txt":
            self._send(PAYLOAD)
        elif self.path == "/truncated.txt":  # announces the full length, sends half, hangs up
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD[: len(PAYLOAD) // 2])
            self.wfile.flush()
            self.close_connection = True
        else:
            self.send_error(404)

    def _send(self, body: bytes):
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture
def server():
    _Handler.requests_seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def online(monkeypatch):
    monkeypatch.setenv("LLMSCRATCH_OFFLINE", "0")


def _resource(url: str, payload: bytes = PAYLOAD, **overrides) -> Resource:
    fields = dict(
        name="story",
        url=url,
        sha256=hashlib.sha256(payload).hexdigest(),
        size=len(payload),
        filename="story.txt",
        offline="the bundled story",
    )
    fields.update(overrides)
    return Resource(**fields)


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_download_then_cache_hit(server, online, tmp_path):
    res = _resource(f"{server}/good.txt")
    path = fetch(res, cache=tmp_path)
    assert path.read_bytes() == PAYLOAD and _leftovers(tmp_path) == ["story.txt"]
    assert fetch(res, cache=tmp_path) == path
    assert _Handler.requests_seen == ["/good.txt"]  # the second call never touched the network


def test_cache_hit_works_offline(server, online, tmp_path, monkeypatch):
    res = _resource(f"{server}/good.txt")
    fetch(res, cache=tmp_path)
    monkeypatch.setenv("LLMSCRATCH_OFFLINE", "1")
    assert fetch(res, cache=tmp_path).read_bytes() == PAYLOAD


def test_wrong_checksum_saves_nothing(server, online, tmp_path):
    res = _resource(f"{server}/good.txt", sha256="0" * 64)
    with pytest.raises(DownloadError, match="expected .* SHA-256 0000.*nothing was saved"):
        fetch(res, cache=tmp_path, retries=3, backoff=0)
    assert _leftovers(tmp_path) == []
    assert len(_Handler.requests_seen) == 1  # a checksum mismatch is not retried


def test_truncated_transfer_is_retried_then_fails_cleanly(server, online, tmp_path):
    res = _resource(f"{server}/truncated.txt")
    with pytest.raises(DownloadError, match="after 2 attempt.*Offline alternative: the bundled story"):
        fetch(res, cache=tmp_path, retries=2, backoff=0)
    assert _leftovers(tmp_path) == []
    assert len(_Handler.requests_seen) == 2


def test_unreachable_host(online, tmp_path):
    with socket.socket() as s:  # find a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    res = _resource(f"http://127.0.0.1:{port}/story.txt")
    with pytest.raises(DownloadError, match="could not download 'story'.*Offline alternative"):
        fetch(res, cache=tmp_path, retries=2, backoff=0, timeout=2)
    assert _leftovers(tmp_path) == []


def test_a_host_without_dns_is_not_retried(online, tmp_path):
    started = time.perf_counter()
    with pytest.raises(DownloadError, match=r"after 1 attempt\(s\).*Offline alternative: the bundled story"):
        fetch(_resource("http://no-such-host.invalid/story.txt"), cache=tmp_path, retries=3, backoff=30)
    assert time.perf_counter() - started < 10  # a retry would have slept 30 s
    assert _leftovers(tmp_path) == []


def test_http_error(server, online, tmp_path):
    with pytest.raises(DownloadError, match="404"):
        fetch(_resource(f"{server}/missing.txt"), cache=tmp_path, retries=1)
    assert _leftovers(tmp_path) == []


def test_corrupted_cache_entry_is_replaced(server, online, tmp_path):
    (tmp_path / "story.txt").write_bytes(b"garbage from an old run")
    path = fetch(_resource(f"{server}/good.txt"), cache=tmp_path)
    assert path.read_bytes() == PAYLOAD


def test_failed_download_keeps_existing_file(server, online, tmp_path):
    (tmp_path / "story.txt").write_bytes(b"an older version the user still has")
    with pytest.raises(DownloadError, match="truncated transfer"):
        fetch(_resource(f"{server}/truncated.txt"), cache=tmp_path, retries=1)
    assert (tmp_path / "story.txt").read_bytes() == b"an older version the user still has"


def test_offline_mode_refuses_at_once_and_names_the_alternative(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMSCRATCH_OFFLINE", "1")
    with pytest.raises(DownloadError, match="offline mode is on.*Offline alternative: the bundled story"):
        fetch(_resource("http://127.0.0.1:9/never"), cache=tmp_path)


def test_unknown_name():
    with pytest.raises(KeyError, match="unknown resource 'nope'; registered: .*the-verdict"):
        fetch("nope")


def test_the_registry_itself_knows_no_data_set():
    code = "from llmscratch.downloads import REGISTRY; print(sorted(REGISTRY))"
    env = {**os.environ, "PYTHONPATH": str(Path(llmscratch.__file__).resolve().parent.parent)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    ).stdout
    assert out.strip() == "[]", out


def test_registry_entries_are_complete():
    assert {"the-verdict", "gpt2-vocab-bpe", "gpt2-encoder-json", "uci-sms-spam", "alpaca"} <= set(REGISTRY)
    verdict = REGISTRY["the-verdict"]
    assert verdict.size == 20_479 and verdict.sha256.startswith("b41e41a6")
    for res in REGISTRY.values():
        assert res.url.startswith("https://") and res.offline
        assert (res.sha256 is not None and len(res.sha256) == 64 and res.size > 0) or res.check is not None


def _must_start_with_once(path):
    if not path.read_bytes().startswith(b"Once upon"):
        raise ValueError("does not start with 'Once upon'")


def test_structure_check_replaces_a_missing_checksum(server, online, tmp_path):
    res = _resource(f"{server}/good.txt", sha256=None, size=None, check=_must_start_with_once)
    assert fetch(res, cache=tmp_path).read_bytes() == PAYLOAD
    (tmp_path / "story.txt").write_bytes(b"garbage")  # a bad cached copy is not trusted
    assert fetch(res, cache=tmp_path).read_bytes() == PAYLOAD


def test_structure_check_failure_saves_nothing(server, online, tmp_path):
    def reject(path):
        raise ValueError("expected 5,574 lines, got 200")

    res = _resource(f"{server}/good.txt", sha256=None, size=None, check=reject)
    with pytest.raises(DownloadError, match="expected 5,574 lines, got 200.*nothing was saved"):
        fetch(res, cache=tmp_path, retries=3, backoff=0)
    assert _leftovers(tmp_path) == [] and len(_Handler.requests_seen) == 1


def test_a_resource_needs_a_checksum_or_a_check():
    with pytest.raises(ValueError, match="neither a sha256 nor a check"):
        _resource("http://127.0.0.1:9/x", sha256=None)


def test_register(tmp_path):
    res = _resource("https://example.invalid/story.txt", name="test-story-register")
    assert downloads.register(res) is res and REGISTRY["test-story-register"] is res
    assert downloads.register(res) is res  # the same entry again is fine
    with pytest.raises(ValueError, match="different resource is already registered"):
        downloads.register(_resource("https://example.invalid/other.txt", name="test-story-register"))
    del REGISTRY["test-story-register"]


def test_default_cache_is_under_llmscratch_home(monkeypatch, tmp_path, server, online):
    monkeypatch.setenv("LLMSCRATCH_HOME", str(tmp_path))
    path = fetch(_resource(f"{server}/good.txt"))
    assert path == tmp_path / "downloads" / "story.txt"
    assert fileio.sha256_file(path) == hashlib.sha256(PAYLOAD).hexdigest()
