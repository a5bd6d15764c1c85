"""meshaid.node: the headless half of meshaid.

The ledger (records, signatures, derived state), its SQLite store, the sync
protocol, the simulator and the command line. Nothing here imports textual.
"""

__version__ = "0.1.0"
