"""What the CLI adds to the Host API's errors: the ``amp-dest`` command that helps.

The Python API says what is wrong in its own terms and carries the facts (an error's
``kind``, ``name``, ``field``...); this module turns them into the hints an operator
at a shell wants, so that no command line is ever part of a Python API message.

A hint quotes whole command lines between backticks, so that pasting one does what it
says; ``usage_error`` tells whether the CLI accepts one (the tests, and the standard
suite for a plugin's check hints, run every hint through it).
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from typing import TYPE_CHECKING

import click

from ._errors import (
    AlreadyExistsError,
    AmpDestError,
    ConnectionTestFailed,
    InvalidFieldsError,
    NotFoundError,
)
from ._names import env_var_name
from ._userinfo import USERINFO_RULE

if TYPE_CHECKING:
    from ._host import Host

__all__ = ["cli_message", "quoted_commands", "renewal_hint", "usage_error"]

# What to list when a name is not found.
_LISTS = {"credential": "credentials", "destination": "destinations", "run": "runs"}
_REGISTERED = ("credential type", "destination type", "input format")
_QUOTED_COMMAND = re.compile(r"`(amp-dest(?: [^`]*)?)`")


def cli_message(error: AmpDestError) -> str:
    """``str(error)`` with the CLI's hint, as the CLI prints it after "error:"."""
    message = str(error)
    if isinstance(error, NotFoundError):
        if error.kind == "secret" and error.name and error.field:
            update = f"amp-dest credentials update {shlex.quote(error.name)} --secret {error.field}"
            return (
                f"credential {error.name!r} has no secret {error.field!r}: set it with "
                f"`{update}` or the environment variable {env_var_name(error.name, error.field)}"
            )
        if error.kind in _LISTS:
            return f"{message}; see `amp-dest {_LISTS[error.kind]} list`"
        if error.kind in _REGISTERED:
            return f"{message}; run `amp-dest plugins list` to see what loaded"
        if error.kind == "suffix":
            return f"{message}: pass --format"
        if error.kind == "authorization flow" and error.name:
            return f"{message}; add one with `amp-dest credentials add NAME --type {error.name}`"
    elif isinstance(error, AlreadyExistsError):
        if error.kind in ("credential", "destination") and error.name:
            return f"{message}; use `amp-dest {error.kind}s update {shlex.quote(error.name)}`"
    elif isinstance(error, ConnectionTestFailed):
        if error.status.failure == "auth" and error.renewable and error.credential:
            return f"{message}; {_reauthorize(error.credential)}"
        return f"{message} (use --no-test to save anyway)"
    elif isinstance(error, InvalidFieldsError):
        if error.needs_credential:
            return (
                f"{message} (create one with "
                f"`amp-dest credentials add NAME --type {error.needs_credential}`)"
            )
        if any(USERINFO_RULE in rule for rules in error.errors.values() for rule in rules):
            return (
                f"{message}; give secrets with `amp-dest credentials add NAME --type TYPE` "
                "or `amp-dest credentials update NAME --secret FIELD`"
            )
    return message


def quoted_commands(text: str) -> list[str]:
    """The `amp-dest ...` command lines that ``text`` quotes between backticks."""
    return _QUOTED_COMMAND.findall(text)


def usage_error(cli: click.Group, command_line: str) -> str | None:
    """Why ``cli`` refuses ``command_line`` (click's usage message), or None when it
    accepts it: every command, option, argument and value type as click parses them
    before running anything. Nothing runs; the command's own checks (a name that
    exists, a setting the schema knows) are not made."""
    try:
        words = shlex.split(command_line)
    except ValueError as exc:  # an unclosed quote: the shell would wait for more
        return f"a shell cannot read it: {exc}"
    if words[:1] != ["amp-dest"]:
        return "it does not start with amp-dest"
    command: click.Command = cli
    name, args, parent = "amp-dest", words[1:], None
    try:
        while True:
            if isinstance(command, click.Group) and not args:
                return "Missing command."  # where click would print the group's help
            with contextlib.redirect_stdout(io.StringIO()):  # what --help, --version print
                ctx = command.make_context(name, args, parent=parent, resilient_parsing=False)
            if not isinstance(command, click.Group):
                return None
            # What the group left for its subcommand, as Group.invoke reads it.
            rest = [*ctx._protected_args, *ctx.args]
            if not rest:
                return "Missing command."
            found, subcommand, args = command.resolve_command(ctx, rest)
            assert found is not None and subcommand is not None  # else it raised
            command, name, parent = subcommand, found, ctx
    except click.exceptions.Exit:  # --help or --version: accepted, and done
        return None
    except click.UsageError as exc:
        return exc.format_message()


def renewal_hint(host: Host, destination: str, failure: str | None) -> str | None:
    """What to do when the remote system refused the credential of ``destination``
    (``failure`` is "auth", a ``FailureType.AUTH``): renew it, when its type declares an
    authorization flow; None otherwise."""
    if failure != "auth":
        return None
    try:
        credential = host.store.destination(destination)["credential"]
        type_name = host.store.credential(credential)["type"] if credential else None
    except NotFoundError:
        return None
    credential_type = host.registry.credential_types.get(type_name or "")
    if credential is None or credential_type is None or credential_type.authorization is None:
        return None
    return _reauthorize(credential)


def _reauthorize(credential: str) -> str:
    return (
        f"the remote system refused credential {credential!r}: renew it with "
        f"`amp-dest credentials reauthorize {credential}`"
    )
