"""The hook surface: every hook receives a ``register`` callback (or the CLI group).

Each hook is documented, with a runnable example, in docs/hooks.md; a test fails when
a hook below has no section there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import click

    from ._base import CredentialType, Destination, Reader
    from ._registry import Register

__all__ = ["hookspec", "hookimpl", "PROJECT"]

PROJECT = "amp_destinations"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_credential_types(register: Register[CredentialType]) -> None:
    """Register ``CredentialType`` subclasses: ``register(MyCredentialType)``, or
    ``register("my-type", "my_plugin.credentials:MyCredentialType")`` to import the class
    only when it is used."""


@hookspec
def register_destinations(register: Register[Destination]) -> None:
    """Register ``Destination`` subclasses: ``register(MyDestination)``, or
    ``register("my-destination", "my_plugin.destination:MyDestination")``."""


@hookspec
def register_readers(register: Register[Reader]) -> None:
    """Register ``Reader`` subclasses for input formats: ``register(MyReader)``, or
    ``register("my-format", "my_plugin.reader:MyReader")``."""


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add click commands or groups to the ``amp-dest`` CLI: ``cli.add_command(...)``."""
