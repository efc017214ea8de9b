"""ollama: the judge client against a loopback HTTP server the test starts, speaking Ollama's JSON.

The fake server implements ``GET /api/tags``, ``POST /api/generate`` and ``POST /api/chat`` with
the shapes of the real API (non-streaming replies), records every request body so the tests can
check that each call asks for temperature 0, a fixed seed and ``stream: false``, and answers a
grading request with a reply chosen by the test.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from llmscratch.finetune import judge as ollama
from llmscratch.finetune.judge import (
    OllamaError,
    judge_available,
    judge_prompt,
    judge_responses,
    judge_score,
    list_models,
    ollama_chat,
    ollama_generate,
    parse_score,
)


class _FakeOllama(BaseHTTPRequestHandler):
    requests: list[tuple[str, dict | None]] = []
    reply_text = "85"
    models = ["llama3.2:latest", "qwen2.5:0.5b"]

    def do_GET(self):  # noqa: N802
        type(self).requests.append((self.path, None))
        if self.path == "/api/tags":
            self._json(
                {
                    "models": [
                        {
                            "name": m,
                            "model": m,
                            "modified_at": "2026-01-01T00:00:00Z",
                            "size": 1,
                            "digest": "0" * 64,
                            "details": {"family": "llama"},
                        }
                        for m in self.models
                    ]
                }
            )
        else:
            self._json({"error": "not found"}, status=404)

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append((self.path, body))
        if body.get("model") not in self.models and body.get("model", "") + ":latest" not in self.models:
            self._json({"error": f"model '{body.get('model')}' not found"}, status=404)
        elif self.path == "/api/generate":
            self._json(
                {
                    "model": body["model"],
                    "created_at": "2026-01-01T00:00:00Z",
                    "response": self.reply_text,
                    "done": True,
                    "done_reason": "stop",
                    "context": [1, 2, 3],
                    "total_duration": 1,
                    "eval_count": 1,
                }
            )
        elif self.path == "/api/chat":
            self._json(
                {
                    "model": body["model"],
                    "created_at": "2026-01-01T00:00:00Z",
                    "message": {"role": "assistant", "content": self.reply_text},
                    "done": True,
                    "done_reason": "stop",
                }
            )
        else:
            self._json({"error": "not found"}, status=404)

    def _json(self, obj, status=200):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _FakeOllama.requests, _FakeOllama.reply_text = [], "85"
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _FakeOllama)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


ENTRY = {
    "instruction": "What is the capital of Peru?",
    "input": "",
    "output": "The capital of Peru is Lima.",
    "kind": "capital",
}


def test_available_when_the_server_has_the_model(server, capsys):
    assert list_models(url=server) == ["llama3.2:latest", "qwen2.5:0.5b"]
    assert judge_available("llama3.2", url=server) and judge_available("qwen2.5:0.5b", url=server)
    assert capsys.readouterr().out == ""


def test_missing_model_is_one_line(server, capsys):
    assert not judge_available("mistral", url=server)
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "has no model 'mistral'" in out and "ollama pull mistral" in out


def test_nothing_listening_is_fast_and_one_line(capsys):
    url = f"http://127.0.0.1:{_free_port()}"
    start = time.monotonic()
    assert judge_available(url=url) is False
    assert time.monotonic() - start < 2.0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith("LLM-as-judge skipped: no Ollama server at")


def test_generate_and_chat_are_deterministic_requests(server):
    assert ollama_generate("Say 85.", model="llama3.2", url=server, seed=7) == "85"
    path, body = _FakeOllama.requests[-1]
    assert path == "/api/generate" and body == {
        "model": "llama3.2",
        "prompt": "Say 85.",
        "stream": False,
        "options": {"seed": 7, "temperature": 0.0},
    }
    _FakeOllama.reply_text = "Hello!"
    assert ollama_chat([{"role": "user", "content": "Hi"}], url=server, num_ctx=2048) == "Hello!"
    path, body = _FakeOllama.requests[-1]
    assert (
        path == "/api/chat"
        and body["stream"] is False
        and body["messages"] == [{"role": "user", "content": "Hi"}]
    )
    assert body["options"] == {"seed": ollama.SEED, "temperature": 0.0, "num_ctx": 2048}


def test_judge_scores_parse_the_reply(server):
    _FakeOllama.reply_text = "Score: **90**/100. The answer is correct."
    assert judge_score(ENTRY, "Lima.", url=server) == 90.0
    prompt = _FakeOllama.requests[-1][1]["prompt"]
    assert (
        "What is the capital of Peru?" in prompt
        and "The capital of Peru is Lima." in prompt
        and "Lima." in prompt
    )
    _FakeOllama.reply_text = "I cannot judge this."
    assert judge_responses([ENTRY, ENTRY], ["Lima", "Cusco"], url=server) == [None, None]
    with pytest.raises(ValueError, match="got 1 entries but 2 responses"):
        judge_responses([ENTRY], ["a", "b"], url=server)


def test_server_errors_are_clear(server):
    with pytest.raises(OllamaError, match="HTTP 404.*model 'nope' not found"):
        ollama_generate("x", model="nope", url=server)
    with pytest.raises(OllamaError, match="no Ollama server at .*ollama serve"):
        ollama_generate("x", url=f"http://127.0.0.1:{_free_port()}", timeout=2)
    with pytest.raises(ValueError, match="message 0 must be a dict with 'role' and 'content'"):
        ollama_chat([{"text": "hi"}], url=server)


@pytest.mark.parametrize(
    "text, score",
    [
        ("85", 85.0),
        ("85.", 85.0),
        (" 100 ", 100.0),
        ("0", 0.0),
        ("Score: 72", 72.0),
        ("**64**", 64.0),
        ("8/10", 80.0),
        ("4 out of 5", 80.0),
        ("92.5", 92.5),
        ("150 is too high; 40", 40.0),
        ("none", None),
        ("", None),
    ],
)
def test_parse_score(text, score):
    assert parse_score(text) == score


def test_judge_prompt_includes_the_input_only_when_there_is_one():
    assert "Input:" not in judge_prompt(ENTRY, "Lima")
    assert "Input:\nmouse" in judge_prompt({**ENTRY, "input": "mouse"}, "mice")
