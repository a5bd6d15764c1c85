"""Writing an export file whole or not at all, like the bundle export
(node/actions/exportfile.py): never over an existing file without `force`,
never over the node's own database or key."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO

from ..actions.exportfile import write_file
from ..store import Store


def write_text(store: Store, dest: Path, write: Callable[[TextIO], int], *, force: bool = False,
               protect: Iterable[Path] = (), example: str = "/media/usb/port.csv") -> int:
    """Call `write(stream)` on a temporary text file (UTF-8, '\\n' newlines left
    alone so the csv module's own line ends survive) and move it to `dest`;
    return what `write` returned. Refuses directories, existing files (unless
    `force`) and the node's own files; ActionError if the disk refuses."""
    return write_file(store, dest, write, text=True, mode=0o644, force=force,
                      protect=protect, example=example)
