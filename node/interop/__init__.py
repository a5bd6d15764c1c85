"""Interoperability: the ledger's needs, offers and pledges in and out of the
formats responders already use.

- `hxl`: export as CSV with HXL hashtags (Humanitarian Exchange Language) or
  as JSON; the column mapping is in node/INTEROP.md.
- `csvin`: read a stock list or shipping manifest (plain CSV or HXL) into
  need or offer bodies, every row checked, each bad row with its reason;
  `cells` turns one cell into a field value, `tags` matches HXL tag patterns.
- `importer`: sign the rows of a checked CSV as this node's records, all of
  them in one transaction or none.
- `edxl`: one need with its pledges, or one offer, as OASIS EDXL-RM 1.0 messages.
- `compact`: a bundle without superseded versions (node/ledger/retention.py).
- `files`: the atomic, never-overwriting file writes every export shares.

Nothing here changes the wire format: exports read the store's derived state,
imports sign ordinary records through `node.actions`.
"""
