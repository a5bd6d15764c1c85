"""HXL hashtags and tag patterns: which cells of a hashtag row a pattern like
`#item+num-pledged` selects.

With the `hxl` extra installed (libhxl, the HXL project's library) its
`TagPattern` does the matching; without it the same rules apply here: a
pattern selects a column with the same hashtag that carries every `+attribute`
of the pattern and none of its `-attributes` (case-insensitive, whitespace
ignored). `BACKEND` says which is in use.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

_TAG = re.compile(r"^#[a-z][a-z0-9_]*(\s*[+-]\s*[a-z][a-z0-9_]*)*$", re.IGNORECASE)

try:  # the optional `hxl` extra
    import hxl as _hxl  # type: ignore[import-not-found,import-untyped,unused-ignore]
except ImportError:  # libhxl missing, or broken (it needs `six` and does not declare it)
    _hxl = None

BACKEND = "libhxl" if _hxl is not None else "built-in"


def is_tag(cell: str) -> bool:
    """True for a hashtag with attributes, like '#item+name' (not a pattern)."""
    text = cell.strip()
    return bool(_TAG.match(text)) and "-" not in text


def is_tag_row(row: list[str]) -> bool:
    """An HXL hashtag row: at least one cell, and every non-empty cell, is a tag."""
    cells = [c.strip() for c in row if c.strip()]
    return bool(cells) and all(is_tag(c) for c in cells)


def _parts(text: str) -> tuple[str, set[str], set[str]]:
    """(tag, +attributes, -attributes) of a tag or pattern, lower case."""
    compact = re.sub(r"\s+", "", text.strip().lower())
    pieces = re.split(r"([+-])", compact)
    tag, plus, minus = pieces[0], set[str](), set[str]()
    for sign, name in zip(pieces[1::2], pieces[2::2]):
        (plus if sign == "+" else minus).add(name)
    return tag, plus, minus


def _builtin(pattern: str) -> Callable[[str], bool]:
    tag, plus, minus = _parts(pattern)

    def match(cell: str) -> bool:
        if not is_tag(cell):
            return False
        ctag, cplus, _ = _parts(cell)
        return ctag == tag and plus <= cplus and not (minus & cplus)
    return match


def _libhxl(pattern: str) -> Callable[[str], bool]:
    assert _hxl is not None
    compiled: Any = _hxl.model.TagPattern.parse(pattern)

    def match(cell: str) -> bool:
        if not is_tag(cell):
            return False
        column = _hxl.model.Column.parse(re.sub(r"\s+", "", cell))  # libhxl: no spaces
        return bool(column) and bool(compiled.match(column))
    return match


def matcher(pattern: str) -> Callable[[str], bool]:
    """A predicate on hashtag cells for `pattern`; InvalidPattern (ValueError) if
    it is not one."""
    text = pattern.strip()
    if not _TAG.match(text):
        raise ValueError(f"{pattern!r} is not an HXL tag pattern like #item+num-pledged")
    return _libhxl(text) if _hxl is not None else _builtin(text)


def first_match(pattern: str, cells: Iterable[str], skip: set[int] | None = None) -> int | None:
    """Index of the first cell `pattern` selects (not in `skip`), or None."""
    try:
        match = matcher(pattern)
    except ValueError as exc:
        from ..actions import InvalidInput

        raise InvalidInput(str(exc)) from None
    for index, cell in enumerate(cells):
        if (skip is None or index not in skip) and match(cell):
            return index
    return None
