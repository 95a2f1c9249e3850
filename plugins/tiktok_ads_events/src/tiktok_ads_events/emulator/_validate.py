"""Strict validation of an ``event/track/`` body, the way TikTok rejects a batch.

One invalid event rejects the whole request; the message names the index and the
field (``data[17].user.email: must be a SHA-256 hex digest``) and never the value.
This is the emulator's hot path: the usual batch is accepted column by column in C-level
loops; anything else is checked event by event, which alone decides and names the field.
"""

from __future__ import annotations

import ipaddress
import re
from itertools import chain
from operator import itemgetter, methodcaller
from typing import Any, NoReturn

from .._constants import (
    CONTENT_TYPES,
    EVENT_CHANNELS,
    MAX_CUSTOM_EVENT_NAME_LENGTH,
    MAX_EVENT_AGE_DAYS,
    MAX_EVENTS_PER_REQUEST,
    STANDARD_EVENTS,
)

MAX_FUTURE_SKEW_SECONDS = 300
MAX_EVENT_AGE_SECONDS = MAX_EVENT_AGE_DAYS * 86400
EVENT_SOURCES = ("offline", "web", "crm")

BODY_FIELDS = frozenset(
    {"event_source", "event_source_id", "partner_name", "test_event_code", "data"}
)
EVENT_FIELDS = frozenset(
    {"event", "event_time", "event_id", "user", "properties", "page", "limited_data_use", "lead"}
)
# Per event source; a field of EVENT_FIELDS another source takes is refused, naming it.
FIELDS_BY_SOURCE = {
    "web": EVENT_FIELDS - {"lead"},
    "offline": EVENT_FIELDS - {"page", "lead"},
    "crm": EVENT_FIELDS - {"page", "limited_data_use"},
}
LEAD_FIELDS = frozenset({"lead_id", "lead_event_source"})
HASHED_USER_FIELDS = ("email", "phone", "external_id")
WEB_USER_FIELDS = frozenset({"ip", "user_agent", "ttp", "ttclid", "locale"})
OFFLINE_USER_FIELDS = frozenset(HASHED_USER_FIELDS)
ALL_USER_FIELDS = OFFLINE_USER_FIELDS | WEB_USER_FIELDS
WEB_IDENTIFIERS = ("ttp", "ttclid")
PAGE_FIELDS = frozenset({"url", "referrer"})

_TEXT = (str,)
_NUMBER = (int, float)
_WHOLE = (int,)
_LIST = (list,)
_TYPE_RULES = {
    _TEXT: "must be a string",
    _NUMBER: "must be a number",
    _WHOLE: "must be a whole number",
    _LIST: "must be a list of objects",
}
PROPERTY_TYPES = {
    "currency": _TEXT,
    "value": _NUMBER,
    "contents": _LIST,
    "content_type": _TEXT,
    "event_channel": _TEXT,
    "order_id": _TEXT,
    "shop_id": _TEXT,
    "description": _TEXT,
    "query": _TEXT,
    "content_id": _TEXT,
}
CONTENT_TYPES_BY_FIELD = {
    "price": _NUMBER,
    "quantity": _WHOLE,
    "content_id": _TEXT,
    "content_name": _TEXT,
    "content_category": _TEXT,
    "brand": _TEXT,
}
CONTENT_FIELDS = frozenset(CONTENT_TYPES_BY_FIELD)

# For the column-wise fast path.
_PLAIN_EVENT_FIELDS = frozenset({"event", "event_time", "event_id", "user", "properties"})
_ONLY_DICT, _ONLY_INT, _ONLY_STR, _ONLY_64 = {dict}, {int}, {str}, {64}
_TYPE_SETS = {field: set(types) for field, types in PROPERTY_TYPES.items()}
_CONTENT_TYPE_SETS = {field: set(types) for field, types in CONTENT_TYPES_BY_FIELD.items()}
# Currency codes already seen to be well-formed: a set lookup beats the regex per event.
_currencies_seen: set[str] = set()
# Values a fast-path field may take (currencies: those the event-by-event check accepted).
_PLAIN_VALUES: dict[str, set[str] | frozenset[str]] = {
    "currency": _currencies_seen,
    "content_type": CONTENT_TYPES,
    "event_channel": EVENT_CHANNELS,
}
_get_event = itemgetter("event")
_get_event_time = itemgetter("event_time")
_get_event_id = itemgetter("event_id")
_get_user = itemgetter("user")
_get_properties = methodcaller("get", "properties")

_is_sha256_hex = re.compile(r"[0-9a-f]{64}").fullmatch
_HEX_DIGITS = b"0123456789abcdef"
_is_currency = re.compile(r"[A-Z]{3}").fullmatch
_is_web_url = re.compile(r"https?://[^\s/?#]+[^\s]*").fullmatch


class InvalidRequest(Exception):
    """The batch is rejected; ``str()`` is ``field: rule``."""

    def __init__(self, field: str, rule: str):
        super().__init__(f"{field}: {rule}")


def check_body(body: Any) -> tuple[str, str, list]:
    """Validate the top level; return (event_source, event_source_id, data)."""
    if type(body) is not dict:
        raise InvalidRequest("request body", "must be a JSON object")
    unknown = body.keys() - BODY_FIELDS
    if unknown:
        raise InvalidRequest(sorted(unknown)[0], "unknown field")
    source = body.get("event_source")
    if source is None:
        raise InvalidRequest("event_source", "required")
    if type(source) is not str or source not in EVENT_SOURCES:
        raise InvalidRequest("event_source", "must be offline, web or crm")
    source_id = body.get("event_source_id")
    if source_id is None:
        raise InvalidRequest("event_source_id", "required")
    if type(source_id) is not str or not source_id.strip():
        raise InvalidRequest("event_source_id", "must be a non-empty string")
    for optional in ("partner_name", "test_event_code"):
        value = body.get(optional)
        if value is not None and (type(value) is not str or not value.strip()):
            raise InvalidRequest(optional, "must be a non-empty string")
    data = body.get("data")
    if data is None:
        raise InvalidRequest("data", "required")
    if type(data) is not list:
        raise InvalidRequest("data", "must be a list of events")
    if not data:
        raise InvalidRequest("data", "must hold at least one event")
    if len(data) > MAX_EVENTS_PER_REQUEST:
        raise InvalidRequest("data", f"must hold at most {MAX_EVENTS_PER_REQUEST} events")
    return source, source_id, data


def check_events(data: list, event_source: str, now: int) -> None:
    """Validate every event; raise InvalidRequest naming an invalid one.

    The common batch (events with only hashed identifiers and plain properties) is
    accepted by a column-wise check, a third faster than going event by event; anything
    else goes through the event-by-event check, which alone decides. CRM events always
    do: each must carry a lead, which the column-wise check does not look at.
    """
    oldest = now - MAX_EVENT_AGE_SECONDS
    newest = now + MAX_FUTURE_SKEW_SECONDS
    if event_source == "crm" or not _plainly_valid(data, oldest, newest):
        _check_each_event(data, event_source, oldest, newest)


def _plainly_valid(data: list, oldest: int, newest: int) -> bool:
    """True only for batches that are valid as offline or web events (never a false True).

    Each test runs over a whole column with C-level loops (map, set, min, join); any
    unusual shape answers False (a KeyError or TypeError too) and leaves the verdict,
    and the message, to _check_each_event.
    """
    try:
        # (Checked as dicts first, the union of their keys bounds every event's keys.)
        if set(map(type, data)) != _ONLY_DICT or not set().union(*data) <= _PLAIN_EVENT_FIELDS:
            return False
        if not STANDARD_EVENTS.issuperset(map(_get_event, data)):
            return False
        times = list(map(_get_event_time, data))
        if set(map(type, times)) != _ONLY_INT or min(times) < oldest or max(times) > newest:
            return False
        ids = list(map(_get_event_id, data))
        if set(map(type, ids)) != _ONLY_STR or not all(ids) or any(map(str.isspace, ids)):
            return False
        users = list(map(_get_user, data))
        if set(map(type, users)) != _ONLY_DICT or not all(users):
            return False
        if not set().union(*users) <= OFFLINE_USER_FIELDS:
            return False
        hashes = list(chain.from_iterable(map(dict.values, users)))
        joined = "".join(hashes)  # a value that is not a string raises TypeError here
        if set(map(len, hashes)) != _ONLY_64:
            return False
        if not joined.isascii() or joined.encode("ascii").translate(None, _HEX_DIGITS):
            return False
        properties = list(map(_get_properties, data))
        if None in properties:
            properties = [p for p in properties if p is not None]
        return not properties or _plain_properties(properties)
    except (KeyError, TypeError):
        return False


def _plain_properties(properties: list) -> bool:
    if set(map(type, properties)) != _ONLY_DICT:
        return False
    for field, values in _columns(properties).items():
        types = _TYPE_SETS.get(field)
        if types is None:
            continue  # a custom property: any JSON value
        if not set(map(type, values)) <= types:
            return False
        allowed = _PLAIN_VALUES.get(field)
        if allowed is not None and not allowed.issuperset(values):
            return False
        if field == "contents":
            contents = list(chain.from_iterable(values))
            if contents and not _plain_contents(contents):
                return False
    return True


def _plain_contents(contents: list) -> bool:
    if set(map(type, contents)) != _ONLY_DICT:
        return False
    columns = _columns(contents)
    if not columns.keys() <= CONTENT_FIELDS:
        return False
    return all(
        set(map(type, values)) <= _CONTENT_TYPE_SETS[field] for field, values in columns.items()
    )


def _columns(rows: list[dict]) -> dict[str, list | tuple]:
    """Each field of a list of dicts with the values it takes, gathered in C where possible."""
    fields = tuple(set().union(*rows))
    if len(fields) > 1 and sum(map(len, rows)) == len(fields) * len(rows):
        # Every row holds every field (the usual batch): one itemgetter pass and a transpose.
        return dict(zip(fields, zip(*map(itemgetter(*fields), rows))))
    return {field: [row[field] for row in rows if field in row] for field in fields}


def _check_each_event(data: list, event_source: str, oldest: int, newest: int) -> None:
    """The authoritative check, event by event; the first invalid field raises."""
    web, crm = event_source == "web", event_source == "crm"
    event_fields = FIELDS_BY_SOURCE[event_source]
    for index, event in enumerate(data):
        if type(event) is not dict:
            raise InvalidRequest(f"data[{index}]", "must be an object")
        if not event.keys() <= event_fields:
            _reject_unknown(f"data[{index}]", event.keys(), event_fields, EVENT_FIELDS)
        name = event.get("event")
        if type(name) is not str or name not in STANDARD_EVENTS:
            _check_custom_event_name(f"data[{index}].event", name, crm)
        event_time = event.get("event_time")
        if type(event_time) is not int or not oldest <= event_time <= newest:
            _reject_event_time(f"data[{index}].event_time", event_time, oldest)
        event_id = event.get("event_id")
        if type(event_id) is not str or not event_id or event_id.isspace():
            _reject_missing_or(f"data[{index}].event_id", event_id, "must be a non-empty string")
        user = event.get("user")
        if type(user) is not dict:
            _reject_missing_or(f"data[{index}].user", user, "must be an object")
        _check_user(index, user, web)
        properties = event.get("properties")
        if properties is not None:
            if type(properties) is not dict:
                raise InvalidRequest(f"data[{index}].properties", "must be an object")
            for field, value in properties.items():
                types = PROPERTY_TYPES.get(field)
                if types is not None and type(value) not in types:
                    raise InvalidRequest(f"data[{index}].properties.{field}", _TYPE_RULES[types])
            currency = properties.get("currency")
            if currency is not None and currency not in _currencies_seen:
                _check_currency(index, currency)
            contents = properties.get("contents")
            if contents:
                for position, content in enumerate(contents):
                    if type(content) is not dict:
                        raise InvalidRequest(
                            f"data[{index}].properties.contents[{position}]", "must be an object"
                        )
                    for field, value in content.items():
                        types = CONTENT_TYPES_BY_FIELD.get(field)
                        if types is None or type(value) not in types:
                            _reject_content_field(index, position, field, types)
            content_type = properties.get("content_type")
            if content_type is not None and content_type not in CONTENT_TYPES:
                raise InvalidRequest(
                    f"data[{index}].properties.content_type", "must be product or product_group"
                )
            channel = properties.get("event_channel")
            if channel is not None and channel not in EVENT_CHANNELS:
                rule = "must be one of " + ", ".join(sorted(EVENT_CHANNELS))
                raise InvalidRequest(f"data[{index}].properties.event_channel", rule)
        if web and "page" in event:
            _check_page(index, event["page"])
        if crm:
            _check_lead(index, event.get("lead"))
        ldu = event.get("limited_data_use")
        if ldu is not None and type(ldu) is not bool:
            raise InvalidRequest(f"data[{index}].limited_data_use", "must be true or false")


def _reject_unknown(where: str, keys, allowed: frozenset, known_anywhere: frozenset) -> NoReturn:
    field = sorted(keys - allowed)[0]
    if field in known_anywhere:
        source = "crm" if field == "lead" else "web"
        raise InvalidRequest(f"{where}.{field}", f"only allowed when event_source is {source}")
    raise InvalidRequest(f"{where}.{field}", "unknown field")


def _check_custom_event_name(field: str, name: Any, custom: bool) -> None:
    """A name that is not standard: refused, unless custom names are allowed (CRM) and
    it is one."""
    if not custom:
        _reject_missing_or(field, name, "must be a standard event name (case-sensitive)")
    if type(name) is not str or not name.strip() or len(name) > MAX_CUSTOM_EVENT_NAME_LENGTH:
        _reject_missing_or(
            field,
            name,
            "must be a standard or custom event name, a non-empty string of at most "
            f"{MAX_CUSTOM_EVENT_NAME_LENGTH} characters",
        )


def _check_lead(index: int, lead: Any) -> None:
    where = f"data[{index}].lead"
    if type(lead) is not dict:
        _reject_missing_or(where, lead, "must be an object")
    if not lead.keys() <= LEAD_FIELDS:
        raise InvalidRequest(f"{where}.{sorted(lead.keys() - LEAD_FIELDS)[0]}", "unknown field")
    for field in ("lead_id", "lead_event_source"):
        value = lead.get(field)
        if field == "lead_id" and value is None:
            raise InvalidRequest(f"{where}.lead_id", "required")
        if value is not None and (type(value) is not str or not value.strip()):
            raise InvalidRequest(f"{where}.{field}", "must be a non-empty string")


def _reject_missing_or(field: str, value: Any, rule: str) -> NoReturn:
    raise InvalidRequest(field, "required" if value is None else rule)


def _reject_event_time(field: str, value: Any, oldest: int) -> NoReturn:
    if value is None:
        raise InvalidRequest(field, "required")
    if type(value) is not int:
        raise InvalidRequest(field, "must be an integer of Unix seconds")
    if value < oldest:
        raise InvalidRequest(field, f"must be within the last {MAX_EVENT_AGE_DAYS} days")
    raise InvalidRequest(
        field, f"must not be more than {MAX_FUTURE_SKEW_SECONDS} seconds in the future"
    )


def _check_user(index: int, user: dict, web: bool) -> None:
    allowed = ALL_USER_FIELDS if web else OFFLINE_USER_FIELDS
    if not user.keys() <= allowed:
        _reject_unknown(f"data[{index}].user", user.keys(), allowed, ALL_USER_FIELDS)
    identified = False
    for field in HASHED_USER_FIELDS:
        if field in user:
            value = user[field]
            if type(value) is not str or not _is_sha256_hex(value):
                _check_hash_list(f"data[{index}].user.{field}", value)
            identified = True
    if web:
        for field in ("user_agent", "ttp", "ttclid", "locale"):
            value = user.get(field)
            if value is not None and (type(value) is not str or not value.strip()):
                raise InvalidRequest(f"data[{index}].user.{field}", "must be a non-empty string")
        ip = user.get("ip")
        if ip is not None:
            try:
                ipaddress.ip_address(ip if type(ip) is str else "")  # "" is no address
            except ValueError:
                raise InvalidRequest(
                    f"data[{index}].user.ip", "must be an IPv4 or IPv6 address"
                ) from None
        identified = identified or any(user.get(field) for field in WEB_IDENTIFIERS)
    if not identified:
        raise InvalidRequest(f"data[{index}].user", "must carry at least one identifier")


def _check_hash_list(field: str, value: Any) -> None:
    """Not a single SHA-256 hex digest: TikTok also takes a non-empty list of them."""
    if type(value) is not list or not value:
        raise InvalidRequest(field, "must be a SHA-256 hex digest")
    for position, item in enumerate(value):
        if type(item) is not str or not _is_sha256_hex(item):
            raise InvalidRequest(f"{field}[{position}]", "must be a SHA-256 hex digest")


def _check_currency(index: int, currency: Any) -> None:
    if type(currency) is not str or not _is_currency(currency):
        raise InvalidRequest(
            f"data[{index}].properties.currency", "must be a three-letter upper-case ISO 4217 code"
        )
    _currencies_seen.add(currency)


def _reject_content_field(index: int, position: int, field: str, types: tuple | None) -> NoReturn:
    where = f"data[{index}].properties.contents[{position}].{field}"
    raise InvalidRequest(where, "unknown field" if types is None else _TYPE_RULES[types])


def _check_page(index: int, page: Any) -> None:
    if type(page) is not dict:
        raise InvalidRequest(f"data[{index}].page", "must be an object")
    if not page.keys() <= PAGE_FIELDS:
        field = sorted(page.keys() - PAGE_FIELDS)[0]
        raise InvalidRequest(f"data[{index}].page.{field}", "unknown field")
    for field in ("url", "referrer"):
        url = page.get(field)
        if url is not None and (type(url) is not str or not _is_web_url(url)):
            raise InvalidRequest(f"data[{index}].page.{field}", "must be an http or https URL")
