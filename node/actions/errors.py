"""The one error type of the domain actions."""

from __future__ import annotations

from ..store import StoreError


class ActionError(StoreError):
    """An action refused, with a one-line message fit for a user. Nothing was
    signed or stored. `usage` is True when the input itself can never be right
    (a value out of range, text too long): the CLI exits 2 for those, 1 for
    refusals that depend on the ledger's state."""

    usage = False


class InvalidInput(ActionError):
    """Input no node would accept, whatever its ledger holds."""

    usage = True
