"""``amp-dest console``: the operator console in a browser (the ``[console]`` extra).

It serves on 127.0.0.1, on a free port unless ``--port`` names one, and prints its
address with a one-time access token, as Jupyter does; the browser that opens it first
gets the session. Another address (``--host``) is only taken when asked for, and the
token is required there too. Ctrl-C stops it: the sends it started are stopped as a
first Ctrl-C stops a send of the CLI, so that each ends recorded and resumable.
"""

from __future__ import annotations

import socket
import threading

import click

from ._cli_support import CliError, _state
from ._terminal import echo

__all__ = ["add_commands"]

_EXTRA = "pip install 'amp-destinations[console]'"
# How long, once the server stopped, the sends still going get to record their end.
_STOP_GRACE_SECONDS = 30.0


def _bound_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise CliError(
            f"cannot listen on {host}:{port} ({exc.strerror}): free that port, or leave "
            "--port out for a free one"
        ) from None
    sock.listen(64)
    return sock


@click.command("console")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=0, help="Port (default: a free one)."
)
@click.option(
    "--host",
    "bind_host",
    default="127.0.0.1",
    show_default=True,
    help="Address to serve on. Another than 127.0.0.1 exposes the console to that "
    "network (over plain HTTP): only on purpose; the token is still required.",
)
@click.option("--no-browser", is_flag=True, help="Print the address; open no browser.")
@click.option(
    "--max-upload",
    type=click.IntRange(1),
    default=1024,
    show_default=True,
    metavar="MB",
    help="The largest input file the console takes as an upload, in MB.",
)
@click.pass_context
def console(ctx, port, bind_host, no_browser, max_upload):
    """Serve the operator console in a browser: credentials, destinations, sends, runs."""
    try:
        import uvicorn

        from ._fields import is_loopback_host
        from .console import create_app
    except ImportError:
        raise CliError(f"the console is an optional extra: install it with `{_EXTRA}`") from None
    state = _state(ctx)
    state.warn_insecure_keyring = True
    host = state.host  # the home and the keyring checked, and warned of, before serving
    app = create_app(host.home, registry=state.registry, max_upload=max_upload << 20)
    sock = _bound_socket(bind_host, port)
    where = sock.getsockname()
    shown_host = f"[{where[0]}]" if ":" in where[0] else where[0]
    url = f"http://{shown_host}:{where[1]}/?token={app.state.token}"
    if not is_loopback_host(bind_host):
        echo(
            f"amp-dest: warning: the console serves {bind_host}, beyond this machine, "
            "over plain HTTP; anyone with the address and its token can use it",
            err=True,
        )
    echo("amp-dest console: open this address (its token works once):", err=True)
    echo(f"  {url}", err=True)
    echo("Ctrl-C stops the console.", err=True)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    if not no_browser:
        import webbrowser

        threading.Timer(0.5, webbrowser.open, args=(url,)).start()
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn passes the Ctrl-C on once it has shut down
        pass
    finally:
        sock.close()
        if app.state.console.jobs.stop_all(_STOP_GRACE_SECONDS):
            echo("amp-dest console: the sends it started were stopped; resume them", err=True)
    echo("amp-dest console: stopped", err=True)


def add_commands(cli: click.Group) -> None:
    cli.add_command(console)
