"""Small text files we wrote ourselves, shipped with the package so every notebook runs offline.

``SOURCES.md`` in this folder says who wrote each file. Nothing here is copied from elsewhere.

- ``load_text(name)``: a bundled text by name (``available()`` lists them).
- ``read_text(path)``: any UTF-8 text file, with a clear error for files that are not UTF-8.
- ``VERDICT``: the public-domain short story the original course uses, registered for download
  (``fetch("the-verdict")``); our own story is its offline stand-in.
"""

from __future__ import annotations

from pathlib import Path

from ..downloads import Resource, register

ASSET_DIR = Path(__file__).parent
DEFAULT_STORY = "clockmakers_apprentice"

VERDICT = register(
    Resource(
        name="the-verdict",
        url="https://raw.githubusercontent.com/rasbt/LLMs-from-scratch/main/ch02/01_main-chapter-code/the-verdict.txt",
        sha256="b41e41a68f0398a3154ae69e2e4c0e2694e17fe0d66730536837f1b01935b31f",
        size=20_479,
        filename="the-verdict.txt",
        offline="the bundled story: llmscratch.assets.load_text('clockmakers_apprentice')",
    )
)


def available() -> list[str]:
    """Names of the bundled texts (file names without ``.txt``)."""
    return sorted(p.stem for p in ASSET_DIR.glob("*.txt"))


def read_text(path: str | Path) -> str:
    """Read a UTF-8 text file; raise ``ValueError`` naming the file and the bad byte otherwise."""
    path = Path(path)
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(
            f"{path} is not UTF-8 text: byte 0x{data[err.start]:02x} at offset {err.start} cannot be "
            "decoded. Re-save the file as UTF-8 (or decode it yourself and pass the string)."
        ) from err


def load_text(name: str = DEFAULT_STORY) -> str:
    """A bundled text by name, e.g. ``load_text("clockmakers_apprentice")``."""
    path = ASSET_DIR / f"{name}.txt"
    if not path.is_file():
        raise FileNotFoundError(
            f"bundled text {name!r} not found in {ASSET_DIR}; available: {', '.join(available()) or 'none'}. "
            "A broken install? Reinstall with: pip install -e ."
        )
    return read_text(path)
