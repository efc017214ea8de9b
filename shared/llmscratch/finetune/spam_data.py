"""The labelled text messages of chapter 6: our bundled set, or the UCI SMS Spam Collection when online.

Both files have the same layout: one message per line, ``label<TAB>text``, label ``ham`` or
``spam``, no header. ``parse_sms`` reads that layout with *quoting off*: a message may start with a
double quote and never close it, and a CSV reader that honours quotes (pandas' default) then
glues the following lines into one message. That is how the UCI file's 5,574 lines become 5,572
"messages" in many tutorials; splitting each line at its first tab keeps all 5,574.

- ``load_sms(source="auto"|"bundled"|"uci")``: an ``SMSData`` (texts, labels 0 = ham / 1 = spam,
  and which source it used); ``texts, labels = load_sms()`` unpacks it.
- ``load_sms("heldout_kinds")`` (or ``load_heldout_kinds()``): a second *test-only* set of 200
  bundled messages whose kinds, templates and fact lists never occur in the training file (a
  landlord about the boiler, a romance scam, ...): what a classifier does on messages unlike any
  it was trained on. Never train on it.
- ``parse_sms(text)``: the parser, with an error naming the 1-based row of a malformed line.
- ``check_uci_zip(path)``: the structure check the download registry runs on the UCI zip (no
  checksum is published for it).

The bundled files are made by ``llmscratch.assets.make_sms`` and ``make_sms_heldout`` (see
``assets/SOURCES.md``).
"""

from __future__ import annotations

import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .. import downloads, settings
from ..assets import ASSET_DIR, read_text

LABELS = ("ham", "spam")  # index = class id: 0 = ham (a genuine message), 1 = spam
BUNDLED_FILE = ASSET_DIR / "sms_messages.tsv"
HELDOUT_FILE = ASSET_DIR / "sms_heldout_kinds.tsv"  # test only: kinds that never occur in BUNDLED_FILE
SOURCES = ("auto", "bundled", "uci", "heldout_kinds")
UCI_RESOURCE = "uci-sms-spam"
UCI_MEMBER = "SMSSpamCollection"  # the data file inside the zip
UCI_LINES, UCI_HAM, UCI_SPAM = 5_574, 4_827, 747  # as documented by the UCI repository


class MalformedRowError(ValueError):
    """A data line that is not ``label<TAB>text`` with a known label and a non-empty text."""


@dataclass
class SMSData:
    """Messages and their class ids, plus where they came from.

    Unpacks like a pair: ``texts, labels = load_sms()``.
    """

    texts: list[str]
    labels: list[int]
    source: str  # "bundled", "uci" or "heldout_kinds"
    path: Path
    note: str = field(default="")  # why this source was used

    def __iter__(self) -> Iterator[list]:
        return iter((self.texts, self.labels))

    def __len__(self) -> int:
        return len(self.texts)

    def describe(self) -> str:
        """One line: source, size and class counts."""
        counts = Counter(self.labels)
        parts = ", ".join(f"{counts[i]:,} {name}" for i, name in enumerate(LABELS))
        return f"{self.source}: {len(self):,} messages ({parts}) from {self.path.name}" + (
            f"; {self.note}" if self.note else ""
        )


def parse_sms(text: str, *, what: str = "data") -> tuple[list[str], list[int]]:
    """Parse ``label<TAB>text`` lines (no header, no quoting) into texts and class ids.

    The text is everything after the *first* tab, kept verbatim (quotes included).

    >>> parse_sms('ham\\tSee you at 7\\nspam\\t"WIN a prize now\\n')
    (['See you at 7', '"WIN a prize now'], [0, 1])
    """
    texts, labels = [], []
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the final newline ends the last row; it does not start an empty one
    for row, line in enumerate(lines, start=1):
        line = line.rstrip("\r")
        label, tab, message = line.partition("\t")
        if not tab:
            raise MalformedRowError(
                f"{what}, row {row}: no tab between label and text in {line[:60]!r}; expected 'ham<TAB>message' or 'spam<TAB>message'"
            )
        if label not in LABELS:
            raise MalformedRowError(f"{what}, row {row}: label {label!r} is not one of {LABELS}")
        if not message.strip():
            raise MalformedRowError(f"{what}, row {row}: the message is empty")
        texts.append(message)
        labels.append(LABELS.index(label))
    return texts, labels


def _read_uci_zip(path: Path) -> str:
    with zipfile.ZipFile(path) as archive:
        if UCI_MEMBER not in archive.namelist():
            raise ValueError(f"the zip has no {UCI_MEMBER!r} member (it has {archive.namelist()})")
        return archive.read(UCI_MEMBER).decode("utf-8", errors="replace")


def check_uci_zip(path: Path) -> None:
    """Raise ``ValueError`` unless ``path`` is the UCI zip: 5,574 rows, 4,827 ham and 747 spam."""
    try:
        texts, labels = parse_sms(_read_uci_zip(path), what=UCI_MEMBER)
    except zipfile.BadZipFile as err:
        raise ValueError(f"not a zip file ({err})") from err
    spam = sum(labels)
    if (len(texts), len(texts) - spam, spam) != (UCI_LINES, UCI_HAM, UCI_SPAM):
        raise ValueError(
            f"expected {UCI_LINES} rows ({UCI_HAM} ham, {UCI_SPAM} spam), got {len(texts)} ({len(texts) - spam} ham, {spam} spam)"
        )


UCI = downloads.register(
    downloads.Resource(
        name=UCI_RESOURCE,
        url="https://archive.ics.uci.edu/static/public/228/sms+spam+collection.zip",
        sha256=None,  # UCI publishes no checksum: checked by structure (rows and labels) instead
        size=None,
        filename="sms_spam_collection.zip",
        offline="the bundled messages: llmscratch.finetune.spam_data.load_sms('bundled')",
        check=check_uci_zip,
    )
)


def load_bundled() -> SMSData:
    """The messages we wrote (``assets/sms_messages.tsv``)."""
    texts, labels = parse_sms(read_text(BUNDLED_FILE), what=BUNDLED_FILE.name)
    return SMSData(texts, labels, "bundled", BUNDLED_FILE)


def load_heldout_kinds() -> SMSData:
    """The held-out kinds (``assets/sms_heldout_kinds.tsv``): a test set only, 100 ham and 100 spam."""
    texts, labels = parse_sms(read_text(HELDOUT_FILE), what=HELDOUT_FILE.name)
    return SMSData(
        texts,
        labels,
        "heldout_kinds",
        HELDOUT_FILE,
        note="test only: none of its kinds occur in the training messages",
    )


def load_uci(cache: Path | None = None) -> SMSData:
    """The UCI SMS Spam Collection (downloaded once, then read from the cache)."""
    path = downloads.fetch(UCI_RESOURCE, cache=cache)
    texts, labels = parse_sms(_read_uci_zip(path), what=UCI_MEMBER)
    return SMSData(texts, labels, "uci", path)


def load_sms(source: str = "auto", *, cache: Path | None = None) -> SMSData:
    """Messages and labels from ``"uci"``, ``"bundled"``, ``"auto"`` or ``"heldout_kinds"``.

    ``"heldout_kinds"`` is the bundled test-only set of unseen kinds (``load_heldout_kinds``),
    never downloaded.

    ``"auto"`` uses the bundled set in offline mode (``LLMSCRATCH_OFFLINE=1``, as in every test
    run, so results do not depend on what a machine has cached) and otherwise tries the UCI file,
    falling back to the bundled set if it cannot be had. ``SMSData.source`` and ``.note`` say
    which was used and why.
    """
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(repr(s) for s in SOURCES)}, got {source!r}")
    if source == "bundled":
        return load_bundled()
    if source == "heldout_kinds":
        return load_heldout_kinds()
    if source == "uci":
        return load_uci(cache)
    if settings.is_offline():
        data = load_bundled()
        data.note = "offline mode is on (LLMSCRATCH_OFFLINE=1), so the bundled messages were used"
        return data
    try:
        data = load_uci(cache)
        data.note = "the UCI SMS Spam Collection was available"
    except downloads.DownloadError as err:
        data = load_bundled()
        data.note = f"the UCI file could not be had ({err}), so the bundled messages were used"
    return data
