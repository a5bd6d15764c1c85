"""The sync daemon: one per node; owns the radio adapter and the sync engine."""
