"""The event sources a destination sends as (``offline``, ``web``, ``crm``) and the rules
that differ between them, in one table: the settings schema, the preparer, the
connection test and the listed choices all read it, so that a rule is stated once.

TikTok's Events API 2.0 rules by source: web and offline take TikTok's standard event
names (this plugin sends standard names only on web, too), CRM also custom ones; every
source needs an event_id; CRM events carry ``lead.lead_id`` and
``lead.lead_event_source``; the browser fields (ip, user agent, ttp, ttclid, locale,
page, limited_data_use) belong to web events only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from ._constants import CRM_LIST_PATH, OFFLINE_GET_PATH, PIXEL_LIST_PATH
from ._problems import CRM_EVENT_SET_HINT, EVENT_SET, EVENT_SET_HINT, PIXEL, PIXEL_HINT

__all__ = ["CRM", "OFFLINE", "SOURCES", "WEB", "EventSource", "source_of"]

OFFLINE = "offline"
WEB = "web"
CRM = "crm"

_digits = re.compile(r"[0-9]+").fullmatch
# As the settings schema has it: upper-case letters and digits, not digits alone.
_pixel_code = re.compile(r"(?=[0-9]*[A-Z])[A-Z0-9]+").fullmatch


def _by_ids(advertiser_id: str, event_set_id: str) -> dict[str, str]:
    return {"advertiser_id": advertiser_id, "event_set_ids": orjson.dumps([event_set_id]).decode()}


def _by_code(advertiser_id: str, event_set_id: str) -> dict[str, str]:
    return {"advertiser_id": advertiser_id, "code": event_set_id}


@dataclass(frozen=True)
class EventSource:
    """What sending as one event source means, from the id a destination names to the
    lookup its connection test makes."""

    name: str
    # What event_set_id names, in messages: "offline event set", "pixel", ...
    what: str
    # Whether event_set_id is digits (an event set id) rather than a pixel code.
    digit_ids: bool
    # The rule for a settings' event_set_id of the other kind, as the schema says it.
    event_set_id_rule: str
    custom_event_names: bool
    # ip, user agent, ttp, ttclid, locale, page and limited_data_use.
    web_fields: bool
    # lead.lead_id per row (required) and lead.lead_event_source from the settings.
    lead: bool
    auto_tracking: bool
    # The connection test's check for the event set, and where its id is shown.
    found_check: str
    hint: str
    # The read-only list the connection test looks the event set up in (filtered to it
    # by ``lookup_params``) and the choices are listed from: its path, the key of its
    # entries in ``data``, and each entry's id and name keys.
    list_path: str
    list_key: str
    id_key: str
    name_key: str
    lookup_params: Callable[[str, str], dict[str, str]]

    @property
    def is_event_set_id(self) -> Callable[[str], Any]:
        """A per-row event_set_id's shape test (a match, or None)."""
        return _digits if self.digit_ids else _pixel_code


SOURCES: Mapping[str, EventSource] = {
    OFFLINE: EventSource(
        name=OFFLINE,
        what="offline event set",
        digit_ids=True,
        event_set_id_rule=(
            "must contain digits only for offline events (the offline event set id, about "
            "19 digits, from Assets > Events > Offline > Manage)."
        ),
        custom_event_names=False,
        web_fields=False,
        lead=False,
        auto_tracking=True,
        found_check=EVENT_SET,
        hint=EVENT_SET_HINT,
        list_path=OFFLINE_GET_PATH,
        list_key="event_set_list",
        id_key="event_set_id",
        name_key="name",
        lookup_params=_by_ids,
    ),
    WEB: EventSource(
        name=WEB,
        what="pixel",
        digit_ids=False,
        event_set_id_rule=(
            "must be the pixel code for web events (upper-case letters and digits, about "
            "20), not a numeric id."
        ),
        custom_event_names=False,
        web_fields=True,
        lead=False,
        auto_tracking=False,
        found_check=PIXEL,
        hint=PIXEL_HINT,
        list_path=PIXEL_LIST_PATH,
        list_key="pixels",
        id_key="pixel_code",
        name_key="pixel_name",
        lookup_params=_by_code,
    ),
    CRM: EventSource(
        name=CRM,
        what="CRM event set",
        digit_ids=True,
        event_set_id_rule=(
            "must contain digits only for CRM events (the CRM event set id, about 19 "
            "digits, shown at the top left of the CRM event set in Events Manager)."
        ),
        custom_event_names=True,
        web_fields=False,
        lead=True,
        auto_tracking=False,
        found_check=EVENT_SET,
        hint=CRM_EVENT_SET_HINT,
        list_path=CRM_LIST_PATH,
        list_key="crm_event_sets",
        id_key="event_set_id",
        name_key="name",
        lookup_params=_by_ids,
    ),
}


def source_of(settings: Mapping[str, Any]) -> EventSource:
    """The event source loaded settings name (offline when they name none)."""
    return SOURCES[settings.get("event_source") or OFFLINE]
