"""What the ``amp-dest`` commands share: exit codes, the one-line error, the state
the root command keeps, JSON output and reading secrets. The group in ``_cli`` and the
commands in ``_cli_commands`` both import this module, and it imports neither."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

import click

from ._errors import InvalidFieldsError, SecretStoreError
from ._names import env_var_name
from ._terminal import echo, printable, printable_json

if TYPE_CHECKING:
    from ._host import Host
    from ._plugins import Registry

__all__ = [
    "EXIT_BROKEN_PIPE",
    "EXIT_FAILED",
    "EXIT_INCOMPLETE",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_NOT_READY",
    "EXIT_TERMINATED",
    "CliError",
    "CliState",
    "_print_json",
    "_state",
    "json_option",
    "print_table",
    "read_secrets",
    "stdin_is_interactive",
]

# The exit codes, as the README lists them. Click exits 2 for a usage error.
EXIT_FAILED = 1
EXIT_INCOMPLETE = 3
EXIT_NOT_READY = 4  # send --validate: the sample's test events were not all accepted
EXIT_INTERNAL = 70  # a bug: nothing else may use it
EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: the reader of our output went away, as git does
EXIT_TERMINATED = 143  # 128 + SIGTERM


class CliError(click.ClickException):
    def format_message(self) -> str:
        return self.message

    def show(self, file=None) -> None:
        click.echo(printable(f"amp-dest: error: {self.format_message()}"), err=True)


class CliState:
    """What the root command keeps for its subcommands: the registry, the home and
    a Host opened on first use (so that --help opens no database)."""

    def __init__(self, registry: Registry, home: str | None, debug: bool):
        self.registry = registry
        self.home = home
        self.debug = debug
        self._host: Host | None = None
        # Set by commands that handle secrets: opening the host then warns of a keyring
        # backend that keeps them readable (one the operator allowed anyway).
        self.warn_insecure_keyring = False

    @property
    def host(self) -> Host:
        if self._host is None:
            from ._host import Host

            self._host = Host(self.home, registry=self.registry)
            warning = self._host.secrets.insecure_warning if self.warn_insecure_keyring else None
            if warning:
                click.echo(printable(f"amp-dest: warning: {warning}"), err=True)
        return self._host

    def close(self) -> None:
        if self._host is not None:
            self._host.close()


def _print_json(data: Any) -> None:
    import orjson  # not imported for --help

    text = orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
    click.echo(printable_json(text))


def _state(ctx: click.Context) -> CliState:
    return ctx.find_root().obj


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


def read_secrets(
    ctx: click.Context,
    credential_type,
    name: str,
    from_stdin: bool,
    ask: tuple[str, ...],
    required_only: bool = True,
    one_line: bool = False,
) -> dict[str, str]:
    """Secret values come from stdin JSON or a hidden prompt, never from argv; a prompt
    only when the secret store can keep the answer."""
    secret_names = credential_type.secret_fields()
    unknown = [field for field in ask if field not in secret_names]
    if unknown:
        raise InvalidFieldsError(
            f"credential fields for {credential_type.name}",
            {
                field: [f"is not a secret field (secret fields: {', '.join(secret_names)})."]
                for field in unknown
            },
        )
    if from_stdin:
        import orjson

        # ``one_line``: the JSON is the first line, and what follows is for the command.
        if one_line:
            raw: str | bytes = sys.stdin.readline()
        else:
            raw = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read()
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise CliError(
                '--secrets-stdin expects one JSON object such as {"token": "..."} on standard input'
            ) from None
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise CliError("--secrets-stdin expects a JSON object of strings")
        return data
    declared = credential_type.schema._declared_fields
    wanted = [
        field
        for field in secret_names
        if field in ask or (required_only and declared[field].required)
    ]
    secrets = {}
    for field in wanted:
        if env_var_name(name, field) in os.environ and field not in ask:
            continue
        # Before the operator types a secret, not after: one the store refuses is lost.
        refusal = _state(ctx).host.secrets.refusal(name, field)
        if refusal:
            raise SecretStoreError(refusal)
        if not stdin_is_interactive():
            raise CliError(
                f"{field} is a secret and standard input is not a terminal: pipe it as JSON "
                f"with --secrets-stdin, or set {env_var_name(name, field)}"
            )
        secrets[field] = click.prompt(
            f"{field} (hidden)", hide_input=True, confirmation_prompt=False
        )
    return secrets


def stdin_is_interactive() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def print_table(rows: list[list[str]], header: list[str], indent: str = "") -> None:
    rows = [[printable(cell) for cell in row] for row in rows]  # escaped before measuring
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        line = "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths))
        echo(indent + line.rstrip())
