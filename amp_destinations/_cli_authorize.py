"""``amp-dest credentials authorize`` and ``reauthorize``: a credential made, or renewed,
by approving in a browser (``Host.authorize_credential``).

What the operator reads while it runs goes to stderr, so that ``--json`` prints the
result alone. App secrets are prompted for (hidden) or piped as JSON, as ``credentials
add`` reads them; with ``--no-browser`` the address the browser was sent to (or the bare
code) is read back from the terminal, or from the next line of standard input in a
script, after the secrets' JSON line when ``--secrets-stdin`` pipes them too.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from ._cli_commands import _show_credential
from ._cli_completion import credential_names, type_names
from ._cli_support import _print_json, _state, json_option, read_secrets, stdin_is_interactive
from ._terminal import echo

if TYPE_CHECKING:
    from ._records import AuthorizeResult

__all__ = ["add_commands"]


class _Front:
    """How the flow meets the operator: the page opened (or its address printed), and
    the redirect read back when no listener can receive it."""

    def __init__(self, open_browser: bool):
        self.open_browser = open_browser
        self.shown = False

    def show(self, url: str) -> None:
        echo("Opening the authorization page in your browser; approve there. If no", err=True)
        echo("browser opens (or it is on another machine), stop with Ctrl-C and rerun", err=True)
        echo("with --no-browser. The page:", err=True)
        echo(f"  {url}", err=True)
        self.shown = True
        import webbrowser  # only when a browser is wanted

        webbrowser.open(url)

    def read(self, url: str) -> str:
        if not self.shown:
            echo("Open this page in a browser and approve:", err=True)
            echo(f"  {url}", err=True)
        echo("Then give the address the browser was sent to (an error page is fine), or", err=True)
        echo("just the code it carries.", err=True)
        if stdin_is_interactive():
            return click.prompt("Address or code", default="", show_default=False, err=True)
        return sys.stdin.readline()

    @property
    def browser(self):
        return self.show if self.open_browser else False


_field_option = click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="FIELD=VALUE",
    help="A non-secret field of the credential (an app id, say); repeat for more.",
)
_redirect_option = click.option(
    "--redirect-uri",
    metavar="URI",
    help="The redirect URI registered for the app, when it is not a loopback one the "
    "host picks (http://127.0.0.1:PORT/... is listened on).",
)
_no_browser_option = click.option(
    "--no-browser",
    is_flag=True,
    help="Print the page's address instead of opening it, and read back the address "
    "the browser was sent to, or the bare code (a machine without a browser).",
)
_stdin_option = click.option(
    "--secrets-stdin",
    is_flag=True,
    help='Read the app secrets as one JSON object from stdin, e.g. {"secret": "..."}; '
    "with --no-browser in a script, on the first line (the redirect follows).",
)
_timeout_option = click.option(
    "--timeout",
    type=click.FloatRange(1),
    metavar="SECONDS",
    help="How long to wait for the approval (default: the provider's limit).",
)


@click.command("authorize")
@click.argument("name")
@click.option(
    "--type",
    "type_name",
    required=True,
    help="A credential type with an authorization flow, see `amp-dest plugins list`.",
    shell_complete=type_names("credential_types"),
)
@_field_option
@_redirect_option
@_no_browser_option
@_stdin_option
@_timeout_option
@json_option
@click.pass_context
def credentials_authorize(
    ctx, name, type_name, sets, redirect_uri, no_browser, secrets_stdin, timeout, as_json
):
    """Create a credential by approving in a browser: its token goes to the keyring."""
    from ._authorizing import preflight, prompted_secrets  # the host part: not for --help
    from ._schemas import parse_assignments

    host = _state(ctx).host
    credential_type = host.registry.credential_type(type_name)
    preflight(host, name, credential_type, new=True)  # before anything is asked for
    fields = parse_assignments(credential_type.schema, sets, f"credential {name}")
    ask = prompted_secrets(host, name, credential_type, new=True)
    secrets = _secrets(ctx, credential_type, name, secrets_stdin, ask, no_browser)
    front = _Front(not no_browser)
    result = host.authorize_credential(
        name,
        type_name,
        fields,
        secrets,
        redirect_uri=redirect_uri,
        browser=front.browser,
        read_redirect=front.read,
        timeout=timeout,
    )
    _report("authorized", result, as_json)


@click.command("reauthorize")
@click.argument("name", shell_complete=credential_names)
@_field_option
@click.option(
    "--secret",
    "ask",
    multiple=True,
    metavar="FIELD",
    help="Prompt for a new value of this app secret (it was rotated).",
)
@_redirect_option
@_no_browser_option
@_stdin_option
@_timeout_option
@json_option
@click.pass_context
def credentials_reauthorize(
    ctx, name, sets, ask, redirect_uri, no_browser, secrets_stdin, timeout, as_json
):
    """Renew a credential the remote system stopped accepting; its destinations keep it."""
    from ._authorizing import preflight
    from ._schemas import parse_assignments

    host = _state(ctx).host
    credential_type = host.registry.credential_type(host.store.credential(name)["type"])
    preflight(host, name, credential_type, new=False)
    fields = parse_assignments(credential_type.schema, sets, f"credential {name}")
    secrets = _secrets(ctx, credential_type, name, secrets_stdin, tuple(ask), no_browser)
    front = _Front(not no_browser)
    result = host.reauthorize_credential(
        name,
        fields,
        secrets,
        redirect_uri=redirect_uri,
        browser=front.browser,
        read_redirect=front.read,
        timeout=timeout,
    )
    _report("reauthorized", result, as_json)


def _secrets(ctx, credential_type, name, from_stdin, ask, no_browser) -> dict[str, str]:
    if not (from_stdin or ask):
        return {}
    # With --no-browser in a script, the redirect follows on stdin: the secrets are the
    # first line, not all of it.
    one_line = no_browser and not stdin_is_interactive()
    return read_secrets(
        ctx, credential_type, name, from_stdin, ask, required_only=False, one_line=one_line
    )


def _report(verb: str, result: AuthorizeResult, as_json: bool) -> None:
    if as_json:
        _print_json(result.to_dict())
    else:
        echo(f"{verb} credential {result.credential.name}")
        _show_credential(result.credential)
    for warning in result.warnings:
        echo(f"amp-dest: warning: {warning}", err=True)


def add_commands(cli: click.Group) -> None:
    credentials = cli.commands["credentials"]
    assert isinstance(credentials, click.Group)
    credentials.add_command(credentials_authorize)
    credentials.add_command(credentials_reauthorize)
