"""Writing an export file whole or not at all (bundles, HXL, JSON, EDXL-RM).

The content goes to an exclusively created temporary file beside the target
(never following a link planted there), is flushed to disk and then linked
(or, with `force`, renamed) into place. An existing file is never replaced
without `force`, a device, FIFO or socket never even with it, and never the
node's own database or the paths in `protect`.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

from ..store import Store, admin
from .errors import ActionError, InvalidInput


def write_file(store: Store, dest: Path, write: Callable[[Any], int], *, text: bool,
               mode: int, force: bool = False, protect: Iterable[Path] = (),
               example: str) -> int:
    """Call `write(stream)` on a temporary file (text: UTF-8 with newlines left
    alone; else binary) created with `mode`, then move it to `dest`; return what
    `write` returned. Refuses directories, existing files (unless `force`) and
    the node's own files; ActionError if the disk refuses."""
    if not str(dest) or str(dest) in (".", ".."):
        raise InvalidInput(f"give a file name to export to, e.g. {example}")
    guarded = list(protect)
    db = admin.database_path(store)
    if db is not None:
        guarded += [db, Path(f"{db}-wal"), Path(f"{db}-shm")]
    for path in guarded:
        if _same(dest, path):
            raise ActionError(f"{dest} is this node's own {path.name}: export never writes "
                              "over it; choose another file")
    if dest.is_dir():
        raise InvalidInput(f"{dest} is a directory; give a file name inside it")
    if os.path.lexists(dest) and not force:
        raise ActionError(f"{dest} already exists; use --force to replace it")
    if force and _special(dest):
        raise ActionError(f"{dest} is not a regular file (a device, FIFO or socket): "
                          "--force replaces files only")
    tmp = dest.with_name(f".{dest.name}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    except OSError as exc:
        raise ActionError(f"cannot write {dest}: {exc.strerror}") from None
    try:
        out: IO[Any]
        with (os.fdopen(fd, "w", encoding="utf-8", newline="") if text
              else os.fdopen(fd, "wb")) as out:
            count = write(out)
            out.flush()
            os.fsync(out.fileno())
        _place(tmp, dest, force)
    except OSError as exc:
        raise ActionError(f"cannot write {dest}: {exc.strerror}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return count


def _place(tmp: Path, dest: Path, force: bool) -> None:
    """A hard link refuses a file that appeared meanwhile; file systems without
    links (FAT sticks) get a rename after one more look."""
    if force:
        os.replace(tmp, dest)
        return
    try:
        os.link(tmp, dest, follow_symlinks=False)
    except FileExistsError:
        raise ActionError(f"{dest} already exists; use --force to replace it") from None
    except OSError:
        if os.path.lexists(dest):
            raise ActionError(f"{dest} already exists; use --force to replace it") from None
        os.replace(tmp, dest)


def _special(path: Path) -> bool:
    """Whether `path` exists as something a rename must not replace: a device,
    FIFO or socket (`export --force /dev/null` as root would replace the device)."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISLNK(mode))


def _same(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()
