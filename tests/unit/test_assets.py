"""assets: the bundled text we wrote, and clear errors for missing or non-UTF-8 files."""

import pytest

from llmscratch.assets import ASSET_DIR, DEFAULT_STORY, available, load_text, read_text


def test_default_story_is_bundled_and_long_enough():
    text = load_text()
    assert DEFAULT_STORY in available()
    assert 20_000 <= len(text) <= 40_000, len(text)


def test_every_bundled_text_is_listed_in_sources():
    sources = (ASSET_DIR / "SOURCES.md").read_text(encoding="utf-8")
    for name in available():
        assert f"{name}.txt" in sources, f"{name}.txt has no entry in assets/SOURCES.md"


def test_missing_asset_names_the_available_ones():
    with pytest.raises(FileNotFoundError, match=f"'no_such_story' not found.*{DEFAULT_STORY}"):
        load_text("no_such_story")


def test_non_utf8_file_is_a_clear_error(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("caf\u00e9 au lait".encode("latin-1"))
    with pytest.raises(ValueError, match=r"not UTF-8 text: byte 0xe9 at offset 3"):
        read_text(path)


def test_read_text_utf8(tmp_path):
    path = tmp_path / "ok.txt"
    path.write_text("café ☕", encoding="utf-8")
    assert read_text(path) == "café ☕"
