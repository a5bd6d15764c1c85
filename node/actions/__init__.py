"""Domain actions: what a person does to the ledger, once, for the CLI and the TUI.

Every action takes an open `Store` and the node's private key, validates its
input, checks the ledger's state, and only then signs and stores one record,
returning it. A refusal raises `ActionError` (a `StoreError`) with a one-line
message, and nothing is signed or stored; `InvalidInput`, its subclass, marks
input that can never be right (the CLI exits 2 for it, 1 for other refusals).

    post_need(store, key, text, *, category, qty=0, unit="pcs", urgency="normal",
              valid_for="7d", site="", lat=None, lon=None) -> Record
    post_offer(store, key, text, *, category, qty=0, unit="pcs", offer_type="stock",
               per=None, valid_for="7d", site="", lat=None, lon=None) -> Record
    pledge(store, key, need_id, qty, *, by=None, text="") -> Record
    update(store, key, record_id, *, qty=None, delivered=None, fulfil=False,
           withdraw=False, renew=None, note=None) -> Record
    vouch(store, key, who, *, steward=False) -> Record
    revoke(store, key, who, *, through_seq=None, reason="") -> Record
    import_bundle(store, key, path_or_binary_stream) -> ImportReport
    export_bundle(store, path_or_binary_stream, *, force=False, protect=()) -> int

Vocabulary arguments take names (any case) or codes; durations take '90m',
'12h', '3d', '2w', 'never' or minutes as an int. Every action also accepts
`now=` (wall time, seconds) for tests and simulations.
"""

from __future__ import annotations

from ..store.store import record_id
from .bundles import ImportReport, export_bundle, import_bundle
from .errors import ActionError, InvalidInput
from .members import person_id, resolve_key, revoke, steward_note, vouch
from .posting import ensure_hello, pledge, post_need, post_offer, sign, update

__all__ = [
    "ActionError", "ImportReport", "InvalidInput", "ensure_hello", "export_bundle",
    "import_bundle", "person_id", "pledge", "post_need", "post_offer", "record_id",
    "resolve_key", "revoke", "sign", "steward_note", "update", "vouch",
]
