"""The `meshaid` command line: a thin layer over meshaid.node."""
