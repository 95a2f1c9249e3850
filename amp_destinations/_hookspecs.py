"""The hook surface: every hook receives a ``register`` callback (or the CLI group).

Each hook is documented, with a runnable example, in docs/hooks.md; a test fails when
a hook below has no section there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import click

    from ._base import CredentialType, Destination, Reader

__all__ = ["hookspec", "hookimpl", "PROJECT"]

PROJECT = "amp_destinations"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_credential_types(register: Callable[[type[CredentialType]], None]) -> None:
    """Register ``CredentialType`` subclasses: ``register(MyCredentialType)``."""


@hookspec
def register_destinations(register: Callable[[type[Destination]], None]) -> None:
    """Register ``Destination`` subclasses: ``register(MyDestination)``."""


@hookspec
def register_readers(register: Callable[[type[Reader]], None]) -> None:
    """Register ``Reader`` subclasses for input formats: ``register(MyReader)``."""


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add click commands or groups to the ``amp-dest`` CLI: ``cli.add_command(...)``."""
