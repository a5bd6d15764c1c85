"""Posting from the TUI through the domain actions (node/actions), in a worker.

Each call opens its own writable Store (SQLite connections belong to one
thread), runs one action with the node's key at the app's clock (it signs and
stores one record in one transaction; the daemon sends it from the outbox) and
closes the store. A refusal raises ActionError (a StoreError) with a one-line
message for the screen; the form keeps what was typed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from meshaid.node import actions
from meshaid.node.actions import inputs
from meshaid.node.cli.common import clock_warning
from meshaid.node.ledger import records as r
from meshaid.node.store import Store
from meshaid.node.store.store import record_id

from .forms import split_list


def _int(text: str) -> int | None:
    text = text.strip()
    return int(text) if text else None


class Writer:
    """Signs and stores records for one node."""

    def __init__(self, db_path: Path, key: Ed25519PrivateKey,
                 clock: Callable[[], float]) -> None:
        self.db_path = db_path
        self.key = key
        self.clock = clock

    def _run(self, action: Callable[..., r.Record], *args: object, **kwargs: object) -> str:
        store = Store.open(self.db_path, wall=self.clock)
        try:
            rec = action(store, self.key, *args, now=self.clock(), **kwargs)
        finally:
            store.close()
        return record_id(rec.short_author, rec.seq)

    def post(self, kind: str, v: dict[str, str]) -> str:
        """Post the compose form of `kind` (its field values as typed); return the
        new record's id."""
        where = inputs.position_text(v.get("position", ""))
        lat, lon = (None, None) if where is None else (where.lat, where.lon)
        if kind == "need":
            return self._run(actions.post_need, v["text"], category=v["category"],
                             qty=_int(v["qty"]) or 0, unit=v["unit"], urgency=v["urgency"],
                             valid_for=v["valid_for"] or None, site=v["site"].strip(),
                             lat=lat, lon=lon, substitutes=v.get("substitutes", ""),
                             deliver_to=v.get("deliver_to", ""),
                             needed_by=v.get("needed_by", "").strip() or None,
                             pack=v.get("pack", "").strip() or None)
        if kind == "offer":
            per = v["per"] if v["per"] not in ("", "-") else None
            return self._run(actions.post_offer, v["text"], category=v["category"],
                             qty=_int(v["qty"]) or 0, unit=v["unit"], offer_type=v["offer_type"],
                             per=per, valid_for=v["valid_for"] or None, site=v["site"].strip(),
                             lat=lat, lon=lon, pack=v.get("pack", "").strip() or None,
                             needs_inputs=tuple(split_list(v.get("inputs", ""))),
                             windows=tuple(split_list(v.get("windows", ""))))
        if kind == "pledge":
            return self._run(actions.pledge, v["need"].strip(), _int(v["qty"]) or 0,
                             by=v["by"].strip() or None, text=v["text"].strip(),
                             offer_id=v.get("from_offer", "").strip() or None)
        if kind == "update":
            state = v["status"]
            return self._run(actions.update, v["target"].strip(), qty=_int(v["qty"]),
                             delivered=_int(v["delivered"]),
                             fulfil=state in ("fulfilled", "delivered"),
                             withdraw=state == "withdrawn", renew=v["renew"].strip() or None,
                             note=v["note"].strip() or None)
        raise ValueError(f"no form for {kind!r}")

    def renew(self, rid: str) -> str:
        """Renew one of this node's needs or offers for the validity it was posted
        with (node/store/attention.py); return the update's id."""
        from meshaid.node.store import attention
        from meshaid.node.store.store import parse_record_id

        store = Store.open(self.db_path, wall=self.clock)
        try:
            why = attention.not_renewable(store, *parse_record_id(rid))
            if why:
                raise actions.ActionError(why)
            minutes = attention.posted_validity(store, *parse_record_id(rid))
        finally:
            store.close()
        return self._run(actions.update, rid, renew=minutes)

    def vouch(self, key_hex: str) -> str:
        """Vouch for a key; the id of the vouch, plus a warning if this node's
        key is not a steward (then no node counts it)."""
        rid = self._run(actions.vouch, bytes.fromhex(key_hex))
        return rid + self._note()

    def revoke(self, key_hex: str, reason: str) -> str:
        """Revoke a key, trusting what this node holds from it (its highest seq)."""
        rid = self._run(actions.revoke, bytes.fromhex(key_hex), reason=reason)
        return rid + self._note()

    def clock_warning(self) -> str | None:
        """The same warning the CLI prints when this machine's wall clock is far
        behind mesh time, or None."""
        store = Store.open(self.db_path, wall=self.clock)
        try:
            return clock_warning(store)
        finally:
            store.close()

    def _note(self) -> str:
        store = Store.open(self.db_path, wall=self.clock)
        try:
            note = actions.steward_note(store, self.key)
        finally:
            store.close()
        return f" ({note})" if note else ""
