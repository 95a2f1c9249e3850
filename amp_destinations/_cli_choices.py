"""Settings chosen from what the remote system lists (``Host.choices``):
``amp-dest destinations options TYPE SETTING``, and the choosing that ``destinations
add`` does when a required one is missing: a numbered prompt on a terminal, in a
script one line naming the ``destinations options`` command that lists the values."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import click

from . import _display as fmt
from ._cli_completion import credential_names, type_names
from ._cli_support import CliError, _print_json, _state, json_option, stdin_is_interactive
from ._terminal import echo, printable

if TYPE_CHECKING:
    from ._base import Destination
    from ._host import Host

__all__ = ["add_commands", "complete_choices"]


@click.command("options")
@click.argument("type_name", metavar="TYPE", shell_complete=type_names("destinations"))
@click.argument("setting")
@click.option(
    "--credential",
    help="The credential whose account is listed (`amp-dest credentials list`).",
    shell_complete=credential_names,
)
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="KEY=VALUE",
    help="A setting chosen so far (the account whose event sets to list, say); repeat for more.",
)
@json_option
@click.pass_context
def destinations_options(ctx, type_name, setting, credential, sets, as_json):
    """List the values a setting may take, as the remote system lists them."""
    host = _state(ctx).host
    destination_cls = host.registry.destination(type_name)
    from ._schemas import parse_assignments  # marshmallow: not for --help

    settings = parse_assignments(destination_cls.settings_schema, sets, f"settings for {type_name}")
    choices = host.choices(type_name, setting, credential, settings)
    if as_json:
        _print_json([{"value": choice.value, "label": choice.label} for choice in choices])
        return
    if not choices:
        echo(f"{type_name} lists no values for {setting} with these settings")
        return
    values = [printable(choice.value) for choice in choices]  # escaped before measuring
    width = max(len(value) for value in [*values, "VALUE"])
    echo(f"{'VALUE'.ljust(width)}  LABEL")
    for value, choice in zip(values, choices):
        echo(f"{value.ljust(width)}  {choice.label}")


def complete_choices(
    host: Host,
    destination_cls: type[Destination],
    credential: str | None,
    settings: Mapping[str, Any],
) -> dict[str, Any]:
    """``settings`` with each required setting the destination can list values for and
    that is missing chosen by the operator on a terminal; in a script, a CliError naming
    the command that lists them. Left to the host's own error when the credential the
    listing needs is missing."""
    declared = destination_cls.settings_schema._declared_fields
    missing = [
        setting
        for setting in destination_cls.choosable
        if setting in declared and declared[setting].required and settings.get(setting) is None
    ]
    chosen = dict(settings)
    if not missing or (destination_cls.credential_type and not credential):
        return chosen
    for setting in missing:
        if not stdin_is_interactive():
            raise CliError(
                f"{setting} is required: see the values it may take with "
                f"`{_options_command(destination_cls, setting, credential, chosen)}`, "
                f"then give --set {setting}=VALUE"
            )
        choices = host.choices(destination_cls.name, setting, credential, chosen)
        if not choices:
            raise CliError(
                f"{setting} is required and {destination_cls.name} lists no values for it "
                f"with credential {credential}: give --set {setting}=VALUE"
            )
        echo(f"{setting}: choose one of", err=True)
        for number, choice in enumerate(choices, 1):
            echo(f"  {number}. {choice.label}", err=True)
        picked = click.prompt(
            f"{setting} (1-{len(choices)})", type=click.IntRange(1, len(choices)), err=True
        )
        chosen[setting] = choices[picked - 1].value
    return chosen


def _options_command(
    destination_cls: type[Destination],
    setting: str,
    credential: str | None,
    settings: Mapping[str, Any],
) -> str:
    """The command that lists ``setting``'s values, with every setting given so far:
    what is listed may depend on any of them (an account's event sets, or its pixels
    rather than its offline event sets when ``event_source`` is web)."""
    words = ["amp-dest", "destinations", "options", destination_cls.name, setting]
    if credential:
        words += ["--credential", credential]
    for key, value in settings.items():
        if value is not None:
            words += ["--set", f"{key}={fmt.value(value)}"]
    return shlex.join(words)


def add_commands(cli: click.Group) -> None:
    destinations = cli.commands["destinations"]
    assert isinstance(destinations, click.Group)
    destinations.add_command(destinations_options)
