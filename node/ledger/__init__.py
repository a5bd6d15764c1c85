"""The signed ledger: record kinds, their wire format, identities and clocks.

Pure code: no I/O, no SQLite, no radio. See node/PROTOCOL.md for the format.
"""
