"""The sync protocol: a sans-IO engine that replicates the ledger over a mesh.

It takes received bytes, sender, radio metadata and `now`; it returns packets
to send and the time of its next timer. It does no I/O, starts no threads,
reads no clock, and imports none of meshtastic, sqlite_utils, textual or
asyncio. The daemon, the simulator and the tests all drive the same object.
"""
