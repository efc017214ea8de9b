"""An optional LLM-as-judge: a minimal client for a *local* Ollama server's REST API.

Ollama (https://ollama.com) runs open models on your own machine and answers JSON over HTTP,
by default at ``http://localhost:11434``. Chapter 7 uses it, when it is there, to have a larger
model grade our model's answers from 0 to 100. Nothing else depends on it: ``judge_available()``
answers within a fraction of a second and, when nothing listens, prints one line saying the judge
was skipped, so the deterministic metrics of ``llmscratch.finetune.metrics`` remain the evaluation.

Only the standard library is used (``urllib``). The endpoints and JSON shapes:

- ``GET /api/tags`` -> ``{"models": [{"name": "llama3.2:latest", "model": ..., ...}, ...]}``
  (reachability and the installed models);
- ``POST /api/generate`` with ``{"model", "prompt", "stream": false, "options": {"seed", "temperature"}}``
  -> ``{"model", "created_at", "response": "...", "done": true, ...}``;
- ``POST /api/chat`` with ``{"model", "messages": [{"role", "content"}], "stream": false, "options"}``
  -> ``{"model", "created_at", "message": {"role": "assistant", "content": "..."}, "done": true, ...}``.

Requests are deterministic: ``temperature`` 0, a fixed ``seed`` and ``stream`` false (one JSON reply).
Ollama is local, so offline mode (``LLMSCRATCH_OFFLINE``) does not block it.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Sequence

__all__ = [
    "DEFAULT_MODEL",
    "DEFAULT_URL",
    "OllamaError",
    "judge_available",
    "judge_prompt",
    "judge_responses",
    "judge_score",
    "list_models",
    "ollama_chat",
    "ollama_generate",
    "parse_score",
]

DEFAULT_URL = "http://localhost:11434"
DEFAULT_MODEL = "llama3.2"
SEED = 123


class OllamaError(RuntimeError):
    """The Ollama server could not be reached or answered something unexpected."""


def _request(url: str, path: str, payload: dict | None = None, *, timeout: float) -> dict:
    """GET (no payload) or POST JSON to ``url + path`` and return the decoded JSON reply."""
    data = None if payload is None else json.dumps(payload).encode("utf-8")
    request = urllib.request.Request(
        url.rstrip("/") + path, data=data, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as err:
        detail = err.read().decode("utf-8", "replace")[:200]
        raise OllamaError(f"{url}{path} answered HTTP {err.code}: {detail}") from err
    except (urllib.error.URLError, OSError) as err:
        raise OllamaError(
            f"no Ollama server at {url} ({getattr(err, 'reason', err)}); start one with `ollama serve`"
        ) from err
    try:
        reply = json.loads(body)
    except json.JSONDecodeError as err:
        raise OllamaError(f"{url}{path} did not answer JSON: {body[:120]!r}") from err
    if not isinstance(reply, dict):
        raise OllamaError(f"{url}{path} answered {type(reply).__name__}, expected a JSON object")
    if "error" in reply:
        raise OllamaError(f"{url}{path}: {reply['error']}")
    return reply


def list_models(*, url: str = DEFAULT_URL, timeout: float = 2.0) -> list[str]:
    """Names of the models the server has installed (``GET /api/tags``)."""
    reply = _request(url, "/api/tags", timeout=timeout)
    return [m.get("name") or m.get("model") for m in reply.get("models", [])]


def _has_model(installed: Sequence[str], model: str) -> bool:
    """``llama3.2`` matches ``llama3.2:latest``; a name with a tag must match exactly."""
    return any(name == model or (":" not in model and name.split(":")[0] == model) for name in installed)


def judge_available(
    model: str = DEFAULT_MODEL, *, url: str = DEFAULT_URL, timeout: float = 0.5, verbose: bool = True
) -> bool:
    """True if a server answers at ``url`` and has ``model``; otherwise False (fast) and one line why.

    >>> judge_available(url="http://127.0.0.1:9", verbose=False)  # port 9 (discard): nobody listens
    False
    """
    try:
        installed = list_models(url=url, timeout=timeout)
    except OllamaError as err:
        if verbose:
            print(f"LLM-as-judge skipped: {err}.")
        return False
    if not _has_model(installed, model):
        if verbose:
            print(
                f"LLM-as-judge skipped: the Ollama server at {url} has no model {model!r} "
                f"(installed: {', '.join(installed) or 'none'}); run `ollama pull {model}`."
            )
        return False
    return True


def _options(seed: int, temperature: float, num_ctx: int | None) -> dict:
    options = {"seed": seed, "temperature": temperature}
    if num_ctx is not None:
        options["num_ctx"] = num_ctx
    return options


def ollama_generate(
    prompt: str,
    *,
    model: str = DEFAULT_MODEL,
    url: str = DEFAULT_URL,
    seed: int = SEED,
    temperature: float = 0.0,
    num_ctx: int | None = None,
    timeout: float = 120.0,
) -> str:
    """One completion from ``POST /api/generate`` (no streaming): the ``response`` text."""
    payload = {
        "model": model,
        "prompt": prompt,
        "stream": False,
        "options": _options(seed, temperature, num_ctx),
    }
    reply = _request(url, "/api/generate", payload, timeout=timeout)
    if not isinstance(reply.get("response"), str):
        raise OllamaError(f"/api/generate answered without a 'response' text: {str(reply)[:200]}")
    return reply["response"]


def ollama_chat(
    messages: Sequence[dict],
    *,
    model: str = DEFAULT_MODEL,
    url: str = DEFAULT_URL,
    seed: int = SEED,
    temperature: float = 0.0,
    num_ctx: int | None = None,
    timeout: float = 120.0,
) -> str:
    """One assistant message from ``POST /api/chat`` (no streaming): its ``content``.

    ``messages`` are ``{"role": "system" | "user" | "assistant", "content": str}`` dicts.
    """
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or not {"role", "content"} <= message.keys():
            raise ValueError(f"message {i} must be a dict with 'role' and 'content', got {message!r}")
    payload = {
        "model": model,
        "messages": list(messages),
        "stream": False,
        "options": _options(seed, temperature, num_ctx),
    }
    reply = _request(url, "/api/chat", payload, timeout=timeout)
    content = (reply.get("message") or {}).get("content")
    if not isinstance(content, str):
        raise OllamaError(f"/api/chat answered without a message content: {str(reply)[:200]}")
    return content


def judge_prompt(entry: dict, response: str) -> str:
    """The grading request for one test entry and our model's ``response``."""
    task = entry["instruction"] + (f"\n\nInput:\n{entry['input']}" if entry.get("input") else "")
    return (
        "You are grading the answer of a small language model.\n\n"
        f"Task:\n{task}\n\nReference answer:\n{entry['output']}\n\nModel answer:\n{response}\n\n"
        "How well does the model answer complete the task, compared with the reference? "
        "Give a score from 0 (wrong or empty) to 100 (fully correct). Reply with the number only."
    )


_SCORE = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d+)?)(?:\s*(/|out of)\s*(\d{1,3}))?")


def parse_score(text: str) -> float | None:
    """The first score in a judge's reply, on a 0-100 scale; ``None`` if there is none.

    Tolerates the usual wrapping: ``"85"``, ``"Score: 85."``, ``"**90**/100"``, ``"7 out of 10"``
    (rescaled to 70). Numbers above 100 are skipped.

    >>> [parse_score(t) for t in ("85", "Score: **92**.", "8/10", "7 out of 10", "I cannot grade this.")]
    [85.0, 92.0, 80.0, 70.0, None]
    """
    for match in _SCORE.finditer(text.replace("*", "")):
        value = float(match.group(1))
        if match.group(3) is not None:
            scale = float(match.group(3))
            if scale <= 0 or value > scale:
                continue
            value = value * 100 / scale
        if 0 <= value <= 100:
            return value
    return None


def judge_score(
    entry: dict,
    response: str,
    *,
    model: str = DEFAULT_MODEL,
    url: str = DEFAULT_URL,
    seed: int = SEED,
    timeout: float = 120.0,
) -> float | None:
    """The judge's 0-100 score for one response (``None`` if its reply holds no usable number)."""
    return parse_score(
        ollama_generate(judge_prompt(entry, response), model=model, url=url, seed=seed, timeout=timeout)
    )


def judge_responses(
    entries: Sequence[dict],
    responses: Sequence[str],
    *,
    model: str = DEFAULT_MODEL,
    url: str = DEFAULT_URL,
    seed: int = SEED,
    timeout: float = 120.0,
) -> list[float | None]:
    """``judge_score`` for every (entry, response) pair, in order."""
    if len(entries) != len(responses):
        raise ValueError(
            f"got {len(entries)} entries but {len(responses)} responses; they must pair up one to one"
        )
    return [
        judge_score(e, r, model=model, url=url, seed=seed, timeout=timeout)
        for e, r in zip(entries, responses)
    ]
