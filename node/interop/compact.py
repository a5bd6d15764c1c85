"""A compacted bundle: every stored record the retention policy keeps (node/
ledger/retention.py: no superseded updates or hellos), written atomically like
every export. Importing it gives a node the same derived state as the source,
with less to carry on a USB stick and less to verify."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from ..actions import ActionError
from ..ledger import bundle
from ..store import Store, retention
from . import files


def write_records(store: Store, out: TextIO) -> int:
    """Write the compacted bundle to `out`; return the number of records."""
    if store.network is None:
        raise ActionError("this node has no charter yet, so nothing to export")
    out.write(bundle.header(store.network) + "\n")
    count = 0
    for raw in retention.compacted(store):
        out.write(bundle.encode_line(raw) + "\n")
        count += 1
    return count


def write_bundle(store: Store, dest: Path, *, force: bool = False,
                 protect: Iterable[Path] = ()) -> int:
    """Write the compacted bundle to the file `dest` (never replacing one without
    `force`, never the node's own files); return the number of records."""
    return files.write_text(store, dest, lambda out: write_records(store, out), force=force,
                            protect=protect, example="/media/usb/port.bundle")
