"""Chapter 7's instruction data: the bundled set we generated, or Stanford Alpaca when online.

``load_instructions(source="bundled" | "alpaca")`` is the one-line switch between the two. The bundled
file (``assets/instructions.json``) is written by ``instruct_gen``. Stanford Alpaca (52,002 entries
written by OpenAI's text-davinci-003) is licensed CC BY-NC 4.0, *non-commercial use only*: we do not
ship it; this module registers it with the download registry and fetches it when you ask.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..assets import ASSET_DIR
from ..downloads import Resource, fetch, register

__all__ = ["ALPACA", "ALPACA_NOTICE", "ALPACA_SIZE", "INSTRUCTIONS_PATH", "check_alpaca", "load_instructions"]

INSTRUCTIONS_PATH = ASSET_DIR / "instructions.json"
ALPACA_NOTICE = (
    "Stanford Alpaca (52,002 entries) is licensed CC BY-NC 4.0: non-commercial use only. "
    "It is downloaded when you ask for it, never bundled."
)
ALPACA_SIZE = 52_002




def check_alpaca(path: Path) -> None:
    """Structure check for the Alpaca file (it publishes no checksum): 52,002 complete entries."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"not a UTF-8 JSON file ({err})") from err
    if not isinstance(data, list) or len(data) != ALPACA_SIZE:
        raise ValueError(f"expected a JSON list of {ALPACA_SIZE:,} entries, got {type(data).__name__} of {len(data) if isinstance(data, list) else '?'}")
    for i, entry in enumerate(data):
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("instruction", "input", "output")):
            raise ValueError(f"entry {i} is not a dict with string fields instruction, input and output")


ALPACA = register(Resource(
    name="alpaca",
    url="https://raw.githubusercontent.com/tatsu-lab/stanford_alpaca/main/alpaca_data.json",
    sha256=None,  # the project publishes no checksum: the structure check below stands in for it
    size=None,
    filename="alpaca_data.json",
    offline='the bundled set we generated: load_instructions("bundled")',
    check=check_alpaca,
))


def load_instructions(source: str = "bundled") -> list[dict[str, str]]:
    """The instruction entries of ``source``: ``"bundled"`` (ours, offline) or ``"alpaca"`` (download).

    Alpaca entries get ``kind="alpaca"``. See ``ALPACA_NOTICE``: Alpaca is for non-commercial use only.
    """
    if source == "bundled":
        return json.loads(INSTRUCTIONS_PATH.read_text(encoding="utf-8"))
    if source == "alpaca":
        data = json.loads(fetch(ALPACA).read_text(encoding="utf-8"))
        return [{"instruction": e["instruction"], "input": e["input"], "output": e["output"], "kind": "alpaca"} for e in data]
    raise ValueError(f'source must be "bundled" or "alpaca", got {source!r}')
