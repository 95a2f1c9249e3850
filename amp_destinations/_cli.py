"""``amp-dest``: the operator's CLI, a thin client of ``Host``.

Errors are one line on stderr and a non-zero exit; ``--debug`` shows the traceback.
Every command that prints data takes ``--json``.
"""

from __future__ import annotations

import os
import sys
from typing import Any, NoReturn

import click
import orjson

from ._cli_hints import cli_message
from ._errors import AmpDestError, InvalidFieldsError
from ._host import Host
from ._plugins import PLUGINS_DIR_ENV, Registry, load_plugins, register_commands
from ._secrets import env_var_name
from ._terminal import printable, printable_json

__all__ = ["build_cli", "main"]

# The exit codes, as the README lists them. Click exits 2 for a usage error.
EXIT_FAILED = 1
EXIT_INCOMPLETE = 3
EXIT_INTERNAL = 70  # a bug: nothing else may use it
EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: the reader of our output went away, as git does
EXIT_TERMINATED = 143  # 128 + SIGTERM


class CliError(click.ClickException):
    def format_message(self) -> str:
        return self.message

    def show(self, file=None) -> None:
        click.echo(printable(f"amp-dest: error: {self.format_message()}"), err=True)


class _InternalError(CliError):
    """A bug in amp-destinations or a plugin: the one error that exits 70."""

    exit_code = EXIT_INTERNAL


class _State:
    def __init__(self, registry: Registry, home: str | None, debug: bool):
        self.registry = registry
        self.home = home
        self.debug = debug
        self._host: Host | None = None

    @property
    def host(self) -> Host:
        if self._host is None:
            self._host = Host(self.home, registry=self.registry)
        return self._host

    def close(self) -> None:
        if self._host is not None:
            self._host.close()


class _Group(click.Group):
    """Turns the host's errors into one line and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AmpDestError as exc:
            if _debug(ctx):
                raise
            raise CliError(cli_message(exc)) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except BrokenPipeError:
            _quiet_broken_pipe()
        except KeyboardInterrupt:
            click.echo("amp-dest: interrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except Exception as exc:
            if _debug(ctx):
                raise
            raise _InternalError(
                f"internal error ({type(exc).__name__}); rerun with --debug to see the "
                "traceback and report it"
            ) from None


def _quiet_broken_pipe() -> NoReturn:
    """Whoever read our output stopped (``| head``): end quietly. Standard output is
    pointed at /dev/null so that the interpreter's last flush does not complain."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real stdout (embedded): nothing left to quiet
        pass
    os.close(devnull)
    sys.exit(EXIT_BROKEN_PIPE)


def _debug(ctx: click.Context) -> bool:
    root = ctx.find_root()
    return bool(root.obj and root.obj.debug)


def _print_json(data: Any) -> None:
    text = orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
    click.echo(printable_json(text))


def _state(ctx: click.Context) -> _State:
    return ctx.find_root().obj


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


def build_cli(registry: Registry | None = None) -> click.Group:
    """A fresh CLI bound to ``registry`` (loaded now when not given), with the
    commands plugins add through ``register_commands``."""
    registry = registry if registry is not None else load_plugins()

    @click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
    @click.option(
        "--home",
        envvar="AMP_DEST_HOME",
        type=click.Path(file_okay=False),
        help="Where the database and run files live (env AMP_DEST_HOME).",
    )
    @click.option(
        "--plugins-dir",
        type=click.Path(file_okay=False),
        help=f"Also load plugin .py files from here (env {PLUGINS_DIR_ENV}).",
    )
    @click.option("--debug", is_flag=True, help="Show tracebacks.")
    @click.version_option(package_name="amp-destinations", prog_name="amp-dest")
    @click.pass_context
    def cli(ctx, home, plugins_dir, debug):
        """Send customer data to destinations: ad platforms, webhooks, files."""
        ctx.obj = _State(registry, home, debug)
        ctx.call_on_close(ctx.obj.close)

    from . import _cli_commands

    _cli_commands.add_commands(cli)
    register_commands(registry, cli)
    return cli


def _plugins_dir_from_argv(argv: list[str]) -> str | None:
    for index, arg in enumerate(argv):
        if arg == "--plugins-dir" and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith("--plugins-dir="):
            return arg.split("=", 1)[1]
    return None


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        registry = load_plugins(plugins_dir=_plugins_dir_from_argv(argv))
    except AmpDestError as exc:
        click.echo(printable(f"amp-dest: error: {cli_message(exc)}"), err=True)
        sys.exit(EXIT_FAILED)
    build_cli(registry).main(args=argv, prog_name="amp-dest")


def read_secrets(
    ctx: click.Context,
    credential_type,
    name: str,
    from_stdin: bool,
    ask: tuple[str, ...],
    required_only: bool = True,
) -> dict[str, str]:
    """Secret values come from stdin JSON or a hidden prompt, never from argv."""
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
        try:
            data = orjson.loads(
                sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read()
            )
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
