"""Shell completion of the names an operator types: credentials, destinations, their
types and run ids, besides the commands and options click completes by itself.

Completion runs on every Tab, before any command: it reads the database read-only and
never creates a home, and it fails quietly (no suggestions) rather than print an error
into the operator's prompt.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import click
from click.shell_completion import CompletionItem

if TYPE_CHECKING:
    from ._plugins import Registry

__all__ = ["credential_names", "destination_names", "run_ids", "type_names"]

Completer = Callable[[click.Context, click.Parameter, str], list[CompletionItem]]


def _stored_names(ctx: click.Context, table: str) -> list[str]:
    # The store (sqlite3, platformdirs) is imported on a Tab, not for every command.
    from ._store import default_home, peek_names

    return peek_names(ctx.find_root().params.get("home") or default_home(), table)


def _matching(names: list[str], incomplete: str) -> list[CompletionItem]:
    return [CompletionItem(name) for name in names if name.startswith(incomplete)]


def _stored(table: str) -> Completer:
    def complete(ctx: click.Context, param: click.Parameter, incomplete: str):
        return _matching(_stored_names(ctx, table), incomplete)

    return complete


credential_names = _stored("credentials")
destination_names = _stored("destinations")
run_ids = _stored("runs")


def type_names(kind: str) -> Completer:
    """``kind`` is "credential_types" or "destinations": names the loaded plugins
    registered, read from the registry the CLI was built with."""

    def complete(ctx: click.Context, param: click.Parameter, incomplete: str):
        registry: Registry | None = getattr(ctx.find_root().command, "registry", None)
        return _matching(sorted(getattr(registry, kind, {})), incomplete)

    return complete
