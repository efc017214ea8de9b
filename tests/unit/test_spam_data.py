"""spamdata and assets.make_sms: the bundled messages, the quoting-off parser, the UCI entry, load_sms.

The UCI download is tested on loopback with a zip the test builds (same layout and counts), never
the real file.
"""

from __future__ import annotations

import dataclasses
import io
import threading
import zipfile
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from llmscratch.assets import make_sms
from llmscratch.downloads import REGISTRY, DownloadError, fetch
from llmscratch.finetune import spam_data as spamdata
from llmscratch.finetune.spam_data import LABELS, MalformedRowError, check_uci_zip, load_sms, parse_sms

# --- the bundled file ------------------------------------------------------------------------


def test_committed_file_is_the_generators_output():
    committed = spamdata.BUNDLED_FILE.read_bytes()
    assert committed == make_sms.to_tsv(make_sms.make_messages()).encode("utf-8"), (
        "assets/sms_messages.tsv differs from the generator: run python -m llmscratch.assets.make_sms"
    )


def test_generator_is_deterministic_and_seeded():
    a, b = (
        make_sms.make_messages(seed=7, n_ham=60, n_spam=30),
        make_sms.make_messages(seed=7, n_ham=60, n_spam=30),
    )
    assert a == b
    assert a != make_sms.make_messages(seed=8, n_ham=60, n_spam=30)


def test_bundled_messages_size_balance_and_variety():
    data = load_sms("bundled")
    counts = Counter(data.labels)
    assert len(data) >= 1_000 and counts[0] == make_sms.N_HAM and counts[1] == make_sms.N_SPAM
    assert len(set(data.texts)) == len(data.texts), "duplicate messages"
    lengths = [len(t) for t in data.texts]
    assert min(lengths) < 20 and max(lengths) > 150, (min(lengths), max(lengths))
    lower = sum(t == t.lower() for t in data.texts) / len(data)
    assert 0.1 < lower < 0.9, lower  # both careful and casual typing


def test_hard_cases_are_in_both_classes():
    """Words spam is known for also occur in genuine messages, and casual words in spam."""
    data = load_sms("bundled")
    for word in ("won", "code", "£", "urgent", "free", "claim", "pay", "http"):
        for label in (0, 1):
            assert any(word in t.lower() and y == label for t, y in zip(data.texts, data.labels)), (
                word,
                LABELS[label],
            )


def test_bundled_file_is_listed_in_sources():
    sources = (spamdata.ASSET_DIR / "SOURCES.md").read_text(encoding="utf-8")
    assert "sms_messages.tsv" in sources and "make_sms" in sources


# --- the parser ------------------------------------------------------------------------------


def test_parser_keeps_quotes_verbatim_and_does_not_merge_lines():
    """An unclosed quote would make a quoting CSV reader swallow the following lines."""
    text = 'ham\t"Hi there\nspam\tWIN now\nham\tsay "yes"\n'
    assert parse_sms(text) == (['"Hi there', "WIN now", 'say "yes"'], [0, 1, 0])


def test_parser_splits_at_the_first_tab_only_and_accepts_crlf():
    assert parse_sms("ham\ta\tb\r\nspam\tc") == (["a\tb", "c"], [0, 1])


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("ham\tok\nspam no tab here\n", r"row 2: no tab"),
        ("ham\tok\nham\tok\neggs\tscrambled\n", r"row 3: label 'eggs' is not one of \('ham', 'spam'\)"),
        ("ham\t   \n", r"row 1: the message is empty"),
        ("ham\tok\n\nham\tok\n", r"row 2: no tab"),
    ],
)
def test_malformed_row_names_its_row(text, pattern):
    with pytest.raises(MalformedRowError, match=pattern):
        parse_sms(text, what="test.tsv")


def test_load_sms_rejects_an_unknown_source():
    with pytest.raises(
        ValueError, match=r"source must be one of 'auto', 'bundled', 'uci', 'heldout_kinds', got 'kaggle'"
    ):
        load_sms("kaggle")


def test_auto_is_bundled_offline_and_says_why(monkeypatch):
    monkeypatch.setenv("LLMSCRATCH_OFFLINE", "1")
    data = load_sms("auto")
    assert data.source == "bundled" and "offline" in data.note
    texts, labels = data  # unpacks like a pair
    assert texts == data.texts and labels == data.labels
    assert data.describe().startswith(f"bundled: {len(data):,} messages")


# --- the UCI file, on loopback ---------------------------------------------------------------


def fake_uci_zip(n_ham: int = spamdata.UCI_HAM, n_spam: int = spamdata.UCI_SPAM) -> bytes:
    lines = [f"ham\tmessage number {i}" for i in range(n_ham)] + [
        f"spam\tWIN prize {i}" for i in range(n_spam)
    ]
    lines[3] = 'ham\t"an unclosed quote, as in the real file'
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(spamdata.UCI_MEMBER, "\n".join(lines) + "\n")
        archive.writestr("readme", "not data")
    return buffer.getvalue()


def test_uci_is_registered_with_a_structure_check():
    resource = REGISTRY[spamdata.UCI_RESOURCE]
    assert resource.sha256 is None and resource.check is not None
    assert resource.url == "https://archive.ics.uci.edu/static/public/228/sms+spam+collection.zip"


def test_structure_check_accepts_the_right_counts_and_rejects_others(tmp_path):
    good, bad = tmp_path / "good.zip", tmp_path / "bad.zip"
    good.write_bytes(fake_uci_zip())
    bad.write_bytes(fake_uci_zip(n_spam=spamdata.UCI_SPAM - 2))
    check_uci_zip(good)
    with pytest.raises(
        ValueError, match=r"expected 5574 rows \(4827 ham, 747 spam\), got 5572 \(4827 ham, 745 spam\)"
    ):
        check_uci_zip(bad)
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a zip file"):
        check_uci_zip(tmp_path / "junk.zip")


@pytest.fixture
def zip_server():
    payloads = {"/good.zip": fake_uci_zip(), "/short.zip": fake_uci_zip(n_ham=100)}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = payloads.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_uci_download_parse_and_auto(zip_server, monkeypatch, tmp_path):
    monkeypatch.setenv("LLMSCRATCH_OFFLINE", "0")
    real = REGISTRY[spamdata.UCI_RESOURCE]
    monkeypatch.setitem(
        REGISTRY, spamdata.UCI_RESOURCE, dataclasses.replace(real, url=f"{zip_server}/good.zip")
    )
    data = load_sms("auto", cache=tmp_path)
    assert data.source == "uci" and len(data) == 5_574 and sum(data.labels) == 747
    assert data.texts[3] == '"an unclosed quote, as in the real file'
    monkeypatch.setenv("LLMSCRATCH_OFFLINE", "1")  # now cached: "uci" works offline, "auto" stays bundled
    assert load_sms("uci", cache=tmp_path).source == "uci"
    assert load_sms("auto", cache=tmp_path).source == "bundled"


def test_wrong_uci_file_is_refused_and_auto_falls_back(zip_server, monkeypatch, tmp_path):
    monkeypatch.setenv("LLMSCRATCH_OFFLINE", "0")
    real = REGISTRY[spamdata.UCI_RESOURCE]
    monkeypatch.setitem(
        REGISTRY, spamdata.UCI_RESOURCE, dataclasses.replace(real, url=f"{zip_server}/short.zip")
    )
    with pytest.raises(DownloadError, match=r"expected 5574 rows.*nothing was saved"):
        fetch(spamdata.UCI_RESOURCE, cache=tmp_path, retries=1)
    assert list(tmp_path.iterdir()) == []
    data = load_sms("auto", cache=tmp_path)
    assert data.source == "bundled" and "could not be had" in data.note
