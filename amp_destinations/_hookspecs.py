"""The hook surface: every hook receives a ``register`` callback (or the CLI group).

Each hook is documented, with a runnable example, in docs/hooks.md; a test fails when
a hook below has no section there.
"""

from __future__ import annotations

import pluggy

__all__ = ["hookspec", "hookimpl", "PROJECT"]

PROJECT = "amp_destinations"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_credential_types(register):
    """Register ``CredentialType`` subclasses: ``register(MyCredentialType)``."""


@hookspec
def register_destinations(register):
    """Register ``Destination`` subclasses: ``register(MyDestination)``."""


@hookspec
def register_readers(register):
    """Register ``Reader`` subclasses for input formats: ``register(MyReader)``."""


@hookspec
def register_commands(cli):
    """Add click commands or groups to the ``amp-dest`` CLI: ``cli.add_command(...)``."""
