"""OpenAI's pretrained GPT-2 from the Hugging Face Hub, loaded into our ``GPTModel``.

The four published sizes live in the ``openai-community`` organisation as safetensors files
(no TensorFlow, no pickle). We pin each repository to one commit, so the bytes a reader downloads
today are the bytes this code was written against:

=========  ==============================  =========================================
size       repository                      pinned revision
=========  ==============================  =========================================
124M       openai-community/gpt2           607a30d783dfa663caf39e06633721c8d4cfcd7e
355M       openai-community/gpt2-medium    6dcaa7a952f72f9298047fd5137cd6e4f05f41da
774M       openai-community/gpt2-large     32b71b12589c2f8d625668d2335a01cac3249519
1558M      openai-community/gpt2-xl        15ea56dee5df4983c59b2538573817e1667135e2
=========  ==============================  =========================================

- ``download_gpt2(size)``: the local path of ``model.safetensors`` (``huggingface_hub`` does the
  download and its cache under ``cache_dir()/hub``; a cached file is used even offline);
  ``HubUnavailable`` with one line when the file is neither cached nor downloadable. With no DNS
  (no network) that is said at once, instead of after the hub client's ~25 s of retries.
  ``download_hub_file(repo, revision, filename, what=...)`` does it for any pinned file, and
  ``download_pinned_model(repos, size, ...)`` for a whole checkpoint folder (the Qwen3 and Gemma 3
  loaders in ``weights.qwen3`` / ``weights.gemma3``).
- ``load_gpt2_safetensors(path, cfg)``: a ``GPTModel`` from a file in GPT-2's layout, through the
  key map of ``weights.load_gpt2_state_dict`` (every key and shape checked); a truncated file gets
  a clear error (``safe_files.read_safetensors``).
- ``load_gpt2(size)`` both; ``try_load_gpt2(size)`` returns None and prints one line when offline,
  so a notebook says so and continues.

The files are 0.5, 1.4, 3.1 and 6.2 GB. The real pretrained model that runs offline is the
Llama-style model of ``ch05_pretraining/ch05_from_gpt_to_llama.ipynb``.
"""

from __future__ import annotations

import urllib.parse
import warnings
from pathlib import Path

import torch

from .. import settings
from ..device import get_device
from ..downloads import host_resolves
from ..model.config import PRESETS, GPTConfig
from ..model.gpt import GPTModel
from ..training.safe_files import read_safetensors
from .gpt2 import load_gpt2_state_dict

GPT2_REPOS: dict[str, tuple[str, str]] = {
    "124M": ("openai-community/gpt2", "607a30d783dfa663caf39e06633721c8d4cfcd7e"),
    "355M": ("openai-community/gpt2-medium", "6dcaa7a952f72f9298047fd5137cd6e4f05f41da"),
    "774M": ("openai-community/gpt2-large", "32b71b12589c2f8d625668d2335a01cac3249519"),
    "1558M": ("openai-community/gpt2-xl", "15ea56dee5df4983c59b2538573817e1667135e2"),
}
WEIGHTS_FILE = "model.safetensors"
HF_FILES = ("config.json", "model.safetensors")  # a Llama-family checkpoint (Qwen3, Gemma 3)


class HubUnavailable(RuntimeError):
    """The weights cannot be downloaded here (offline mode, no network, or the hub refused)."""


def _normalise_size(size: str) -> str:
    key = str(size).upper().removeprefix("GPT2-").removeprefix("GPT-2 ")
    if key not in GPT2_REPOS:
        raise ValueError(f"unknown GPT-2 size {size!r}; choose one of {', '.join(GPT2_REPOS)}")
    return key


def gpt2_config(size: str) -> GPTConfig:
    """The ``GPTConfig`` of a published GPT-2 size ('124M', '355M', '774M' or '1558M')."""
    return PRESETS[f"gpt2-{_normalise_size(size)}"]


def download_gpt2(
    size: str, *, cache: Path | None = None, endpoint: str | None = None, revision: str | None = None
) -> Path:
    """Download (or find in the cache) GPT-2's ``model.safetensors``; return its local path.

    ``endpoint`` overrides the hub's address (the tests point it at a loopback server);
    ``revision`` overrides the pinned commit. Raises ``HubUnavailable`` in offline mode or when
    the download fails, with the reason in one line.
    """
    key = _normalise_size(size)
    repo, pinned = GPT2_REPOS[key]
    return download_hub_file(
        repo, revision or pinned, WEIGHTS_FILE, what=f"GPT-2 {key}", cache=cache, endpoint=endpoint
    )


def download_hub_file(
    repo: str,
    revision: str,
    filename: str,
    *,
    what: str,
    cache: Path | None = None,
    endpoint: str | None = None,
) -> Path:
    """The local path of ``filename`` from Hub repository ``repo`` at commit ``revision``, downloaded if needed.

    A cached copy is used without touching the network (also offline). ``what`` names the model in
    the one-line ``HubUnavailable`` raised in offline mode, without network, or when the hub refuses.
    """
    with (
        warnings.catch_warnings()
    ):  # huggingface_hub imports tqdm.auto, which warns in Jupyter without ipywidgets
        warnings.filterwarnings("ignore", message="IProgress not found")
        from huggingface_hub import hf_hub_download  # optional, heavy: only needed online

    where = dict(revision=revision, cache_dir=cache or settings.cache_dir() / "hub")
    try:  # a cached copy works offline too, and costs no network round trip
        return Path(hf_hub_download(repo, filename, local_files_only=True, **where))
    except Exception:  # not cached (the hub raises several error types for that)
        pass
    if settings.is_offline():
        raise HubUnavailable(
            f"{what} needs a download from the Hugging Face Hub ({repo}) and offline mode is on (LLMSCRATCH_OFFLINE=1)"
        )
    host = urllib.parse.urlsplit(endpoint or "https://huggingface.co").hostname or ""
    if not host_resolves(host):  # without this, huggingface_hub retries for ~25 s before giving up
        raise HubUnavailable(
            f"could not download {what} from {repo}: no network here (cannot resolve {host})"
        )
    try:
        path = hf_hub_download(repo, filename, endpoint=endpoint, **where)
    except Exception as err:  # network, HTTP and hub errors all mean: not available here
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise HubUnavailable(f"could not download {what} from {repo}: {first}") from err
    return Path(path)


def download_pinned_model(
    repos: dict[str, tuple[str, str]],
    size: str,
    *,
    family: str,
    what: str,
    cache: Path | None = None,
    endpoint: str | None = None,
) -> Path:
    """The local folder of a pinned Hugging Face checkpoint (``HF_FILES``), each file downloaded if needed.

    ``repos`` maps each size to ``(repository, pinned revision)``; an unknown ``size`` raises naming
    ``family`` and the sizes there are. ``what`` names the model in ``HubUnavailable``'s one line.
    """
    if size not in repos:
        raise ValueError(f"unknown {family} size {size!r}; choose one of {', '.join(repos)}")
    repo, revision = repos[size]
    paths = [
        download_hub_file(repo, revision, name, what=what, cache=cache, endpoint=endpoint)
        for name in HF_FILES
    ]
    return paths[0].parent


def load_gpt2_safetensors(path: str | Path, cfg: GPTConfig, *, device: torch.device | str | None = None):
    """A ``GPTModel(cfg)`` holding the weights of a safetensors file in GPT-2's layout, in eval mode."""
    state, _ = read_safetensors(path)
    model = GPTModel(cfg)
    load_gpt2_state_dict(model, state)
    return model.to(device or get_device()).eval()


def load_gpt2(
    size: str, *, device: torch.device | str | None = None, drop_rate: float = 0.0, **download_kwargs
):
    """OpenAI's GPT-2 of ``size`` as our ``GPTModel`` (eval mode, dropout ``drop_rate``)."""
    cfg = gpt2_config(size).with_(drop_rate=drop_rate)
    return load_gpt2_safetensors(download_gpt2(size, **download_kwargs), cfg, device=device)


def try_load_gpt2(size: str, **kwargs):
    """``load_gpt2``, or None after printing one line saying why (offline, no network)."""
    try:
        return load_gpt2(size, **kwargs)
    except HubUnavailable as err:
        print(f"GPT-2 {_normalise_size(size)} not loaded: {err}.")
        return None
