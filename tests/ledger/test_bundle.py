"""bundle: the line-per-record text format of a USB-stick transfer."""

from __future__ import annotations

import base64

import pytest

from meshaid.node.ledger import bundle

NET = bytes(range(32))


def test_write_then_read_round_trips() -> None:
    raws = [b"\x10abc", bytes(range(200)), b""]
    text = bundle.write(NET, raws)
    assert text.splitlines()[0] == f"meshaid-bundle 1 {NET.hex()}"
    network, lines = bundle.read(text)
    assert network == NET
    items = list(lines)
    assert [i.raw for i in items] == [b"\x10abc", bytes(range(200))]  # empty line skipped
    assert [i.number for i in items] == [2, 3]


def test_a_bad_line_is_reported_by_number_and_the_rest_still_read() -> None:
    good = base64.b64encode(b"record").decode()
    text = f"meshaid-bundle 1 {NET.hex()}\n{good}\nnot base64!\n\n{good}\n"
    _, lines = bundle.read(text)
    items = list(lines)
    assert [(i.number, i.raw) for i in items] == [(2, b"record"), (3, None), (5, b"record")]
    assert items[1].error == "line is not base64"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "empty"),
        ("hello\n", "bad first line"),
        (f"meshaid-bundle 2 {NET.hex()}\n", "version"),
        ("meshaid-bundle 1 xyz\n", "malformed network"),
        (f"meshaid-bundle 1 {NET.hex()[:-2]}\n", "malformed network"),
        (f"meshaid-bundle 1 {NET.hex()} extra\n", "bad first line"),
    ],
)
def test_unusable_headers_are_refused(text: str, match: str) -> None:
    with pytest.raises(bundle.BundleError, match=match):
        bundle.read(text)
