"""The names an operator types: shell completion of credentials, destinations, their
types and run ids, besides the commands and options click completes by itself; and
``RegisteredChoice``, an option whose values are the names plugins registered.

Completion runs on every Tab, before any command: it reads the database read-only and
never creates a home, and it fails quietly (no suggestions) rather than print an error
into the operator's prompt.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click
from click.shell_completion import CompletionItem

if TYPE_CHECKING:
    from ._plugins import Registry

__all__ = ["RegisteredChoice", "credential_names", "destination_names", "run_ids", "type_names"]

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


def _registered(ctx: click.Context | None, kind: str) -> list[str]:
    """The names of ``kind`` ("credential_types", "destinations", "readers") the loaded
    plugins registered, from the registry the CLI was built with."""
    registry: Registry | None = getattr(ctx.find_root().command, "registry", None) if ctx else None
    return sorted(getattr(registry, kind, {}))


def type_names(kind: str) -> Completer:
    """Completes ``kind`` ("credential_types" or "destinations") names."""

    def complete(ctx: click.Context, param: click.Parameter, incomplete: str):
        return _matching(_registered(ctx, kind), incomplete)

    return complete


class RegisteredChoice(click.Choice):
    """A choice of the names of ``kind`` that plugins registered ("readers" for
    ``--format``): ``--help`` lists them, Tab completes them, case does not matter, and
    a value that is none of them is a usage error that says which one was probably
    meant, as click does for a mistyped command. The names are read from the registry
    when the command line is parsed, since plugins load after the commands exist."""

    def __init__(self, kind: str):
        super().__init__((), case_sensitive=False)
        self.kind = kind

    @property
    def choices(self) -> tuple[str, ...]:
        return tuple(_registered(click.get_current_context(silent=True), self.kind))

    @choices.setter
    def choices(self, value: Any) -> None:
        """``Choice.__init__`` sets the choices once; these are read each time instead."""

    def shell_complete(self, ctx: click.Context, param: click.Parameter, incomplete: str):
        # Completion parses without making its context the current one: use the one given.
        return _matching(_registered(ctx, self.kind), incomplete.lower())

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None):
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter as exc:
            close = difflib.get_close_matches(str(value).lower(), self.choices, n=1)
            if not close:
                raise
            self.fail(f"{exc.message} Did you mean {close[0]!r}?", param, ctx)
