"""TikTok Ads Events: offline and web conversion events to the TikTok Events API.

The host finds this plugin through its ``amp_destinations`` entry point; importing it
registers nothing by itself, and imports neither marshmallow nor an HTTP client: the
hooks register the classes by name and path, so that ``amp-dest plugins list`` and
``--help`` stay fast. The classes are imported when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from amp_destinations import hookimpl

from ._constants import NAME
from ._lazy import lazy_names

if TYPE_CHECKING:
    from ._destination import TikTokAdsEvents
    from ._settings import TikTokCredentialType, TikTokSettingsSchema

__all__ = ["TikTokAdsEvents", "TikTokCredentialType", "TikTokSettingsSchema"]

_LAZY = {
    "TikTokAdsEvents": "_destination",
    "TikTokCredentialType": "_settings",
    "TikTokSettingsSchema": "_settings",
}


__getattr__ = lazy_names(__name__, _LAZY)


@hookimpl
def register_credential_types(register):
    register(NAME, "tiktok_ads_events._settings:TikTokCredentialType")


@hookimpl
def register_destinations(register):
    register(NAME, "tiktok_ads_events._destination:TikTokAdsEvents")


@hookimpl
def register_commands(cli):
    # click only: the server and the HTTP client load when a command runs.
    from .emulator._approve import approve_command
    from .emulator.cli import emulator

    @click.group("tiktok", help="TikTok Ads Events tools")
    def tiktok():
        pass

    tiktok.add_command(emulator)
    tiktok.add_command(approve_command)
    cli.add_command(tiktok)
