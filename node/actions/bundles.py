"""Bundles in and out: a USB stick is a transport too.

Import streams the file line by line (bounded memory whatever its size), ingests
in batches, and answers with counts and a summary of rejections by reason, not
one line per bad record. Only regular files are read (never a FIFO or a device),
and a file that turns out to be junk (GARBAGE_MAX lines in a row that are not
records, or one enormous line) is given up on with one message. Export streams every record into an exclusively
created temporary file next to the target and renames it into place; it never
replaces an existing file without `force`, and never the node's own database
or key, even with it.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ..ledger import bundle, identity
from ..store import Outcome, Store, admin
from ..store import queries as q
from .errors import ActionError
from .exportfile import write_file
from .posting import ensure_hello

BATCH = 500
HEADER_MAX = 200
PENDING_MAX = 20_000  # records held during one import before they are settled
GARBAGE_MAX = 1_000  # lines in a row that are not records: the file is not a bundle
LONG_LINE_MAX = 1 << 20  # bytes of one line skipped before giving up on the file


@dataclass
class Reason:
    count: int = 0
    first_line: int = 0
    detail: str = ""


@dataclass
class ImportReport:
    """What an import did: counts by outcome, and rejections by reason."""

    accepted: int = 0
    duplicate: int = 0
    held: int = 0
    rejected: int = 0
    reasons: dict[str, Reason] = field(default_factory=dict)

    def reject(self, reason: str, line: int, detail: str) -> None:
        self.rejected += 1
        entry = self.reasons.setdefault(reason, Reason(0, line, detail))
        entry.count += 1

    def as_dict(self) -> dict[str, object]:
        return {"accepted": self.accepted, "duplicate": self.duplicate, "held": self.held,
                "rejected": self.rejected,
                "reasons": {k: {"count": v.count, "first_line": v.first_line, "detail": v.detail}
                            for k, v in sorted(self.reasons.items())}}


def _lines(stream: BinaryIO, name: str) -> Iterator[tuple[int, str | None]]:
    """(line number, text) of each line after the header; text None for a line
    that is too long or not ASCII. Reads at most MAX_LINE bytes at a time, and
    gives up on a line longer than LONG_LINE_MAX (a file of junk, /dev/zero)."""
    number = 1
    while True:
        chunk = stream.readline(bundle.MAX_LINE + 2)
        if not chunk:
            return
        number += 1
        if not chunk.endswith(b"\n") and len(chunk) >= bundle.MAX_LINE + 2:
            skipped = len(chunk)
            while chunk and not chunk.endswith(b"\n"):  # skip the rest of a long line
                if skipped > LONG_LINE_MAX:
                    raise _Junk(number, f"line {number} is over {LONG_LINE_MAX} bytes long: "
                                        "not a meshaid bundle")
                chunk = stream.readline(65536)
                skipped += len(chunk)
            yield number, None
            continue
        try:
            yield number, chunk.decode("ascii")
        except UnicodeDecodeError:
            yield number, None


def _open(source: Path) -> BinaryIO:
    """Open a regular file for reading. Opening never blocks (a FIFO), and what is
    checked is what was opened (no swap between a check and the open)."""
    try:
        fd = os.open(source, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise ActionError(f"cannot read {source}: {exc.strerror}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ActionError(f"{source} is not a regular file, so not a bundle")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def import_bundle(store: Store, key: Ed25519PrivateKey | None, source: Path | BinaryIO, *,
                  now: float | None = None) -> ImportReport:
    """Verify and store the records of a bundle (a path, or a binary stream such
    as stdin). A bundle for another network is refused whole; bad records are
    counted by reason and the rest are stored. A record whose author's hello is
    neither in the bundle nor on this node is rejected, not kept. Afterwards the
    node signs its own hello if the charter just arrived (`key` given)."""
    stream = _open(source) if isinstance(source, Path) else source
    name = str(source) if isinstance(source, Path) else "the bundle"
    try:
        first = stream.readline(HEADER_MAX)
        if not first:
            raise ActionError(f"{name}: empty file, not a meshaid bundle")
        try:
            network = bundle.parse_header(first.decode("ascii", errors="replace"))
        except bundle.BundleError as exc:
            raise ActionError(f"{name}: {exc}") from None
        code = identity.network_code(network)
        if store.network is not None and store.network != network:
            raise ActionError(f"{name} belongs to network {code}, this node to "
                              f"{store.network_code}")
        if store.network is None and store.network_code != code:
            raise ActionError(f"{name} belongs to network {code}, this node expects "
                              f"{store.network_code}")
        report = ImportReport()
        held_before = q.held_hashes(store)
        pending: dict[bytes, tuple[int, str]] = {}  # held during this import: line, reason
        items: deque[bundle.Line] = deque()  # handed to the store, outcome not seen yet
        garbage = [0]  # lines since the last record that was stored (or held): junk

        def records() -> Iterator[bytes]:
            for number, text in _lines(stream, name):
                item = (bundle.Line(number, None, "line is too long or not ASCII")
                        if text is None else bundle.parse_line(number, text))
                if item is None:
                    continue
                if item.raw is None:
                    report.reject("bad-encoding", item.number, item.error)
                    garbage[0] += 1
                    if garbage[0] >= GARBAGE_MAX:
                        raise _Junk.garbage(number)
                else:
                    items.append(item)
                    yield item.raw

        try:
            # One stream, so the store checks the next batch while it stores one.
            with closing(store.ingest_stream(records(), now, batch=BATCH)) as outcomes:
                for outcome in outcomes:
                    item = items.popleft()
                    garbage[0] = garbage[0] + 1 if outcome.status == "rejected" else 0
                    _count(item, outcome, report, held_before, pending)
                    if garbage[0] >= GARBAGE_MAX:
                        raise _Junk.garbage(item.number)
                    if len(pending) > PENDING_MAX:
                        _settle(store, report, pending)
        except _Junk as junk:
            _settle(store, report, pending)
            raise ActionError(
                f"{name}: {junk.why}; stopped there (before it: accepted {report.accepted}, "
                f"duplicate {report.duplicate}, held {report.held}, rejected {report.rejected}; "
                "what was accepted is stored)") from None
        finally:
            _settle(store, report, pending)
    finally:
        if isinstance(source, Path):
            stream.close()
    if key is not None:
        ensure_hello(store, key, now)
    return report


class _Junk(Exception):
    """The file stops being a bundle at `line` (too many lines in a row that are
    not records of this network, or one enormous line): `why`."""

    def __init__(self, line: int, why: str) -> None:
        super().__init__(line)
        self.line = line
        self.why = why

    @classmethod
    def garbage(cls, line: int) -> _Junk:
        return cls(line, f"{GARBAGE_MAX} lines in a row up to line {line} are not records of "
                         "this network: not a bundle, or damaged beyond use")


def _count(item: bundle.Line, outcome: Outcome, report: ImportReport,
           held_before: set[bytes], pending: dict[bytes, tuple[int, str]]) -> None:
    """Count one record's outcome; a record held during this import waits in
    `pending` (settled later: its author's hello may come further on)."""
    if outcome.status == "accepted":
        report.accepted += 1
    elif outcome.status == "duplicate":
        report.duplicate += 1
    elif outcome.status == "held":
        assert item.raw is not None
        digest = hashlib.sha256(item.raw).digest()
        if digest in held_before:
            report.held += 1
        else:
            pending[digest] = (item.number, outcome.reason)
    else:
        report.reject(outcome.reason, item.number, outcome.detail)


def _settle(store: Store, report: ImportReport, pending: dict[bytes, tuple[int, str]]) -> None:
    """Records held during this import: accepted if their author's hello came later
    in the file, otherwise damaged or forged, so dropped and counted as rejected."""
    if not pending:
        return
    stored = q.stored_hashes(store, list(pending))
    report.accepted += len(stored)
    bogus = {d: v for d, v in pending.items() if d not in stored}
    admin.discard_held(store, bogus)
    for number, reason in sorted(bogus.values()):
        report.reject(reason, number,
                      "its author's hello is neither in this bundle nor on this node"
                      if reason == "unknown-author" else "the network's charter was not accepted")
    pending.clear()


def export_bundle(store: Store, dest: Path | BinaryIO, *, force: bool = False,
                  protect: Iterable[Path] = ()) -> int:
    """Write every stored record as a bundle to `dest` (a path or a binary stream);
    return how many. A path is written atomically and never replaces an existing
    file unless `force`, nor ever the node's database or the paths in `protect`."""
    if store.network is None:
        raise ActionError("this node has no charter yet, so nothing to export")
    if not isinstance(dest, Path):
        return _write(store, dest)
    return write_file(store, dest, lambda out: _write(store, out), text=False, mode=0o600,
                      force=force, protect=protect, example="/media/usb/port.bundle")


def _write(store: Store, out: BinaryIO) -> int:
    assert store.network is not None
    out.write((bundle.header(store.network) + "\n").encode("ascii"))
    count = 0
    for raw in store.raw_records():
        out.write((bundle.encode_line(raw) + "\n").encode("ascii"))
        count += 1
    return count
