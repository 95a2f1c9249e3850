"""``amp-dest``: the operator's CLI, a thin client of ``Host``.

Errors are one line on stderr and a non-zero exit; ``--debug`` shows the traceback.
Every command that prints data takes ``--json``.
"""

from __future__ import annotations

import os
import shlex
import sys
from typing import Any, NoReturn

import click

from . import _cli_authorize, _cli_choices, _cli_commands, _cli_console
from ._cli_hints import cli_message
from ._cli_support import (
    EXIT_BROKEN_PIPE,
    EXIT_FAILED,
    EXIT_INCOMPLETE,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_NOT_READY,
    EXIT_TERMINATED,
    CliError,
    CliState,
)
from ._errors import AmpDestError
from ._plugins import PLUGINS_DIR_ENV, Registry, load_plugins, register_commands
from ._terminal import printable

__all__ = ["build_cli", "main"]

# Every exit code the CLI uses, as the README lists them; click exits 2 on a usage error.
EXIT_CODES = (
    EXIT_FAILED,
    EXIT_INCOMPLETE,
    EXIT_NOT_READY,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_BROKEN_PIPE,
    EXIT_TERMINATED,
)


_ARGV = "amp_dest.argv"  # the ctx.meta key of the command line as given


class _InternalError(CliError):
    """A bug in amp-destinations or a plugin: the one error that exits 70."""

    exit_code = EXIT_INTERNAL


class _Group(click.Group):
    """Turns the host's errors into one line and an exit code."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta[_ARGV] = list(args)  # for the command line an internal error suggests
        return super().parse_args(ctx, args)

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
            rerun = shlex.join(["amp-dest", "--debug", *ctx.meta.get(_ARGV, [])])
            raise _InternalError(
                f"internal error ({type(exc).__name__}); to see the traceback, rerun it as "
                f"`{rerun}`, and report it"
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
    @click.version_option(
        None, "-V", "--version", package_name="amp-destinations", prog_name="amp-dest"
    )
    @click.pass_context
    def cli(ctx, home, plugins_dir, debug):
        """Send customer data to destinations: ad platforms, webhooks, files."""
        ctx.obj = CliState(registry, home, debug)
        ctx.call_on_close(ctx.obj.close)

    cli.registry = registry  # type: ignore[attr-defined]  # read by name completion
    _cli_commands.add_commands(cli)
    _cli_authorize.add_commands(cli)
    _cli_choices.add_commands(cli)
    _cli_console.add_commands(cli)
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
