"""TikTok Ads Events: offline and web conversion events to the TikTok Events API.

The host finds this plugin through its ``amp_destinations`` entry point; importing it
registers nothing by itself.
"""

from __future__ import annotations

import sys

import click

from amp_destinations import hookimpl

from ._destination import TikTokAdsEvents
from ._settings import TikTokCredentialType, TikTokSettingsSchema

__all__ = ["TikTokAdsEvents", "TikTokCredentialType", "TikTokSettingsSchema"]


@hookimpl
def register_credential_types(register):
    register(TikTokCredentialType)


@hookimpl
def register_destinations(register):
    register(TikTokAdsEvents)


@hookimpl
def register_commands(cli):
    @click.group("tiktok", help="TikTok Ads Events tools")
    def tiktok():
        pass

    # The emulator pulls in a web server; import it only when the CLI is built, and
    # keep the group when it is missing so the rest of the CLI still works.
    try:
        from .emulator.cli import emulator
    except Exception as exc:
        sys.stderr.write(
            f"amp-dest: the tiktok emulator command is unavailable: {type(exc).__name__}: {exc}\n"
        )
    else:
        tiktok.add_command(emulator)
    cli.add_command(tiktok)
