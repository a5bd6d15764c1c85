"""Signing a checked CSV plan as this node's needs or offers: all rows in one
write transaction, so an interruption, a full disk or a refused record leaves
nothing of the import behind."""

from __future__ import annotations

from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ..actions import ActionError, sign
from ..ledger import identity
from ..ledger import records as r
from ..store import Store, retention
from .csvin import Plan

PROGRESS_EVERY = 500


def sign_plan(store: Store, key: Ed25519PrivateKey, plan: Plan, *,
              progress: Callable[[int, int], None] | None = None,
              now: float | None = None) -> list[r.Record]:
    """Sign every row of `plan` (which must have no problems) as this key's
    records, in file order, in one transaction; `progress(done, total)` is
    called every PROGRESS_EVERY rows and at the end. Refuses a plan that would
    take this author past its live-record quota (node/PROTOCOL.md, retention)."""
    if plan.problems:
        raise ActionError(f"{len(plan.problems)} rows have problems; nothing was signed")
    total = len(plan.rows)
    me = identity.public_bytes(key)
    signed: list[r.Record] = []
    with store.write():
        retention.check_quota(store, me, extra=total, now=now)
        for done, row in enumerate(plan.rows, 1):
            signed.append(sign(store, key, row.body, now))
            if progress is not None and (done % PROGRESS_EVERY == 0 or done == total):
                progress(done, total)
    return signed
