"""meshaid.tui: the Textual terminal UI. It may import meshaid.node; never the reverse."""
