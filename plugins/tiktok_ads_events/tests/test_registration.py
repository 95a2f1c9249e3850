"""The host finds the plugin through its entry point and gets what it registers."""

from __future__ import annotations

import click

import amp_destinations
from amp_destinations import Destination
from tiktok_ads_events import TikTokAdsEvents, TikTokCredentialType
from tiktok_ads_events._constants import MAX_EVENTS_PER_REQUEST, MAX_REQUEST_BYTES


def load():
    return amp_destinations.load_plugins(entry_points=True, builtins=False)


def test_the_entry_point_registers_the_destination_and_its_credential_type():
    registry = load()
    assert registry.destination("tiktok-offline-events") is TikTokAdsEvents
    assert registry.credential_type("tiktok-offline-events") is TikTokCredentialType
    info = next(info for info in registry.plugins if info.name == "tiktok-ads-events")
    assert info.source == "entry point"
    assert info.error is None
    assert info.registered == {
        "credential_types": ["tiktok-offline-events"],
        "destinations": ["tiktok-offline-events"],
    }


def test_the_destination_declares_what_the_host_needs():
    assert issubclass(TikTokAdsEvents, Destination)
    assert TikTokAdsEvents.title == "TikTok Ads Events"
    assert TikTokAdsEvents.credential_type == "tiktok-offline-events"
    assert TikTokAdsEvents.max_batch_size == MAX_EVENTS_PER_REQUEST == 1000
    assert TikTokAdsEvents.max_batch_bytes == MAX_REQUEST_BYTES
    assert TikTokAdsEvents.id_field == "event_id"
    assert TikTokAdsEvents.identifiers == {
        "email": (("email",), ("email_2",), ("email_3",), ("email_4",), ("email_5",)),
        "phone": (("phone",), ("phone_2",), ("phone_3",), ("phone_4",), ("phone_5",)),
        "external_id": (
            ("external_id",),
            ("external_id_2",),
            ("external_id_3",),
            ("external_id_4",),
            ("external_id_5",),
        ),
        "ttclid or ttp": (("tiktok_click_id",), ("cookie_id",)),
        "ip with user agent": (("ip", "agent"),),
    }


def test_the_tiktok_command_group_is_added_to_the_cli():
    registry = load()
    cli = click.Group("amp-dest")
    registry.pm.hook.register_commands(cli=cli)
    group = cli.commands["tiktok"]
    assert isinstance(group, click.Group)
    assert group.help == "TikTok Ads Events tools"
    assert list(group.commands) == ["emulator", "approve"]
