"""Matching needs to offers and production chains (issue 11).

    match(store, record_id, now=None, limit=10) -> dict   # JSON-ready
    MatchError                                            # unknown / not open

For a need: the ranked offers that could cover it, each factor explained, and
when the need names a product of the shipped vocabulary (match/vocab.py), the
chain of offers that makes it with its bottleneck. For an offer: the needs it
could serve, and its stock or capacity windows after what pledges draw on it.
The same ledger gives the same result on every node.
"""

from __future__ import annotations

from .engine import MatchError, match

__all__ = ["MatchError", "match"]
