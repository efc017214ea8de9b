"""A Hugging Face Hub on 127.0.0.1 for the download tests (nothing touches the internet).

``huggingface_hub`` downloads through an ``endpoint`` argument; ``loopback_hub()`` starts a server
there that answers HEAD and GET of ``/<repo>/resolve/<revision>/<file>`` the way the Hub does (the
``ETag`` and ``X-Repo-Commit`` headers the client checks, then the bytes), 404 for any other path,
and records every request as ``"GET /<path>"``. Used by ``unit/test_hub.py``, ``unit/test_gguf.py``
and ``unit/test_qwen3_gemma3_weights.py``.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass
class LoopbackHub:
    endpoint: str  # pass as ``endpoint=`` to the download
    files: dict[str, bytes] = field(default_factory=dict)  # URL path -> bytes (may be filled later)
    requests: list[str] = field(default_factory=list)  # "HEAD /path", "GET /path", in order


@contextlib.contextmanager
def loopback_hub(files: dict[str, bytes] | None = None) -> Iterator[LoopbackHub]:
    """A running loopback hub serving ``files`` (URL path -> bytes); stopped when the block ends."""
    hub = LoopbackHub(endpoint="", files=dict(files or {}))

    class Handler(http.server.BaseHTTPRequestHandler):
        def _send(self, body: bool) -> None:
            hub.requests.append(f"{self.command} {self.path}")
            data = hub.files.get(self.path)
            if data is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            revision = self.path.split("/resolve/")[1].split("/")[0]
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
            self.send_header("X-Repo-Commit", revision)
            self.end_headers()
            if body:
                self.wfile.write(data)

        def do_HEAD(self):  # noqa: N802
            self._send(body=False)

        def do_GET(self):  # noqa: N802
            self._send(body=True)

        def log_message(self, *args):  # keep the test output quiet
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hub.endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()
