"""What needs someone's attention, derived from the ledger alone: no record is
sent for any of it, so it costs no air time, and every node that holds the
same records shows the same flags (give or take its own clock).

- **Renewal prompts**: an author's own open needs and offers whose valid-until
  is less than RENEW_BEFORE_S (or a quarter of the validity they were posted
  with, if shorter) away, or passed less than RENEW_AFTER_S ago:
  "still needed?" / "still available?". Renewing is an ordinary update with a
  new validity (`meshaid renew ID`, key `r` in the TUI).
- **Expiry**: an expired need or offer leaves the board (`list --status
  expired` and `show` still find it); a pledge on it stays open until its
  pledger delivers or withdraws it, and both sides are told (`expired_pledges`).
- **Uncovered**: a trusted, open, unexpired need of high or critical urgency
  with no live pledge ESCALATE_AFTER_S[urgency] after it was signed. Shown
  first, on every node.
- **Quiet sites**: a member whose newest record is older than QUIET_FACTOR times
  its usual gap between records (the median of its last QUIET_SAMPLE gaps),
  and at least QUIET_FLOOR_S old. Needs three records to know what is usual.

Every function takes `now` (unix seconds): the caller's store wall clock or
mesh time (`Store.mesh_now`), never the sync engine's timer. They read through
`store.db.execute` only, so the TUI's read-only connections can call them.
"""

from __future__ import annotations

import itertools
import statistics
from typing import Any, Protocol

from ..ledger import codec, hlc
from ..ledger import records as r
from .errors import record_id
from .sqlconst import FULFILLED, NEED, OFFER, OPEN, PLEDGE, WITHDRAWN

RENEW_BEFORE_S = 12 * 3600
RENEW_AFTER_S = 7 * 86400
DEFAULT_RENEW_MIN = 7 * 1440
ESCALATE_AFTER_S = {r.CRITICAL: 3600, 2: 6 * 3600}  # critical: 1 hour, high: 6 hours
QUIET_FLOOR_S = 6 * 3600
QUIET_FACTOR = 4
QUIET_SAMPLE = 20


class _Readable(Protocol):
    db: Any


def renewals(store: _Readable, author: bytes, now: float) -> list[dict[str, Any]]:
    """`author`'s open needs and offers about to expire or recently expired,
    soonest first: id, kind, text, valid_until, expired, question, and
    renew_min (the validity it was posted with, or 7 days)."""
    rows = store.db.execute(
        "SELECT o.short, o.seq, o.kind, o.text, o.valid_until, r.raw FROM objects o"
        " JOIN records r ON r.id = o.record_id"
        f" WHERE o.author = ? AND o.kind IN ({NEED}, {OFFER}) AND o.status = {OPEN}"
        " AND o.valid_until IS NOT NULL AND o.valid_until > ? AND o.valid_until <= ?"
        " ORDER BY o.valid_until, o.seq",
        [author, now - RENEW_AFTER_S, now + RENEW_BEFORE_S]).fetchall()
    out = []
    for short, seq, kind, text, until, raw in rows:
        body = codec.parse(bytes(raw)).body
        span = getattr(body, "valid_for_min", 0) or DEFAULT_RENEW_MIN
        if until - now > min(RENEW_BEFORE_S, span * 15):  # a quarter of its validity
            continue
        out.append({
            "id": record_id(bytes(short), seq), "kind": "need" if kind == NEED else "offer",
            "text": text, "valid_until": until, "expired": until <= now,
            "question": "still needed?" if kind == NEED else "still available?",
            "renew_min": span,
        })
    return out


def posted_validity(store: _Readable, short: bytes, seq: int) -> int:
    """Minutes of validity need or offer (short, seq) was posted with (what a
    renewal gives again); DEFAULT_RENEW_MIN if it had none or is unknown."""
    row = store.db.execute(
        "SELECT r.raw FROM objects o JOIN records r ON r.id = o.record_id"
        " WHERE o.short = ? AND o.seq = ? ORDER BY o.trust = 'trusted' DESC LIMIT 1",
        [short, seq]).fetchone()
    if row is None:
        return DEFAULT_RENEW_MIN
    return getattr(codec.parse(bytes(row[0])).body, "valid_for_min", 0) or DEFAULT_RENEW_MIN


def not_renewable(store: _Readable, short: bytes, seq: int,
                  duration_given: bool = False) -> str | None:
    """Why (short, seq) is not something `renew` may touch (a pledge, or a need or
    offer already fulfilled or withdrawn: renewing would reopen it, or an id not
    known here; without `duration_given`, one that never expires: its posted
    validity would give it an expiry), or None. Checked for every id before any
    is signed."""
    row = store.db.execute(
        "SELECT kind, status, valid_until FROM objects WHERE short = ? AND seq = ?"
        " ORDER BY trust = 'trusted' DESC LIMIT 1", [short, seq]).fetchone()
    shown = record_id(short, seq)
    if row is None:
        return f"no need, offer or pledge with id {shown} is known here"
    if row[0] not in (NEED, OFFER):
        return f"{shown} is a pledge: only needs and offers are renewed"
    if row[1] in (FULFILLED, WITHDRAWN):
        done = "fulfilled" if row[1] == FULFILLED else "withdrawn"
        return (f"{shown} is {done}: renewing would reopen it; if that is what you mean,"
                f" meshaid update {shown} --renew 7d")
    if row[2] is None and not duration_given:
        return (f"{shown} never expires: nothing to renew (meshaid renew {shown} --for 7d"
                " gives it an expiry)")
    return None


def uncovered(store: _Readable, now: float) -> list[dict[str, Any]]:
    """Urgent needs nobody pledged to in time, most urgent and longest waiting
    first: id, text, urgency (name), site, waiting_s."""
    out = []
    for urgency, after in sorted(ESCALATE_AFTER_S.items(), reverse=True):
        cutoff = hlc.from_unix(now - after)
        rows = store.db.execute(
            "SELECT o.short, o.seq, o.text, o.site, k.site, o.created_hlc FROM objects o"
            " LEFT JOIN keys k ON k.key = o.author"
            f" WHERE o.kind = {NEED} AND o.trust = 'trusted' AND o.status = {OPEN}"
            " AND o.urgency = ? AND o.pledge_count = 0 AND o.created_hlc <= ?"
            " AND (o.valid_until IS NULL OR o.valid_until > ?)"
            " ORDER BY o.created_hlc, o.author, o.seq", [urgency, cutoff, now]).fetchall()
        for short, seq, text, site, author_site, created in rows:
            out.append({"id": record_id(bytes(short), seq), "text": text,
                        "urgency": "critical" if urgency == r.CRITICAL else "high",
                        "site": site or author_site or "",
                        "waiting_s": int(now - hlc.unix_of(created))})
    return out


def expired_pledges(store: _Readable, now: float,
                    author: bytes | None = None) -> list[dict[str, Any]]:
    """Open pledges whose need expired without being fulfilled (all of them, or
    those that `author` made or received): pledge, need, text, pledger_name."""
    rows = store.db.execute(
        "SELECT p.short, p.seq, n.short, n.seq, n.text, k.name, p.author, n.author"
        " FROM objects p JOIN objects n ON n.short = p.ref_short AND n.seq = p.ref_seq"
        f" AND n.kind = {NEED} LEFT JOIN keys k ON k.key = p.author"
        f" WHERE p.kind = {PLEDGE} AND p.status = {OPEN} AND p.trust = 'trusted' AND n.status = {OPEN}"
        " AND n.valid_until IS NOT NULL AND n.valid_until <= ?"
        " ORDER BY n.valid_until, p.seq", [now]).fetchall()
    return [{"pledge": record_id(bytes(ps), pq), "need": record_id(bytes(ns), nq),
             "text": text, "pledger_name": name or ""}
            for ps, pq, ns, nq, text, name, pa, na in rows
            if author is None or author in (bytes(pa), bytes(na))]


def quiet_sites(store: _Readable, now: float,
                exclude: bytes | None = None) -> list[dict[str, Any]]:
    """Members (not revoked) that have been silent for longer than usual,
    longest first: name, site, short, silent_s, usual_s."""
    times: dict[bytes, list[int]] = {}
    members = store.db.execute("SELECT key FROM members WHERE revoked_through IS NULL")
    for (author,) in members.fetchall():
        # an author's newest records by seq (the records_author_seq index), by time
        rows = store.db.execute("SELECT hlc FROM records WHERE author = ? ORDER BY seq DESC"
                                " LIMIT ?", [author, QUIET_SAMPLE + 1]).fetchall()
        times[bytes(author)] = sorted((hlc.unix_of(v) for (v,) in rows), reverse=True)
    out = []
    for author, seen in times.items():
        if author == exclude or len(seen) < 3:
            continue
        gaps = [a - b for a, b in itertools.pairwise(seen)]
        usual = max(1.0, float(statistics.median(gaps)))
        silent = now - seen[0]
        if silent >= max(QUIET_FLOOR_S, QUIET_FACTOR * usual):
            hello = store.db.execute("SELECT name, site, short FROM keys WHERE key = ?",
                                     [author]).fetchone()
            name, site, short = hello if hello else ("", "", author[:4])
            out.append({"name": name, "site": site, "short": bytes(short).hex(),
                        "silent_s": int(silent), "usual_s": int(usual)})
    out.sort(key=lambda q: (-int(q["silent_s"]), str(q["short"])))
    return out


def summary(store: _Readable, now: float, me: bytes | None) -> dict[str, Any]:
    """Every flag at once, as `meshaid attention --json` prints it."""
    return {
        "uncovered": uncovered(store, now),
        "renew": renewals(store, me, now) if me is not None else [],
        "expired_pledges": expired_pledges(store, now, me),
        "quiet": quiet_sites(store, now, exclude=me),
    }
