"""`python -m meshaid.node.cli`: the same as the `meshaid` command."""

from .main import main

main()
