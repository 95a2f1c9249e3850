"""One input row to one TikTok event: the plugin's hot path.

``EventPreparer`` is built once per destination and compiled once per run
(``start``); ``prepare`` is then plain Python over precomputed tuples and sets. It
takes a row as the tuple of its ``FIELDS`` values, which the host picks out of each
input row by position (None for a column the input lacks).

A bad required field or bad money rejects the row with a ``RecordError``; a bad
optional field is dropped with a ``RecordWarning``. Messages name the field and the
rule, never the value. Every reason code is listed in REASON_CODES.md.

What differs between event sources (offline, web, crm) comes from the table in
``_sources``, read once in ``__init__`` and ``start``. The rules of single fields live
beside: event names in ``_events``, match keys in
``_keys`` (with ``_hashing`` and ``_phones``), money in ``_money``, times in ``_times``,
native values as text and derived event ids in ``_values``.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

from amp_destinations import RecordError, RecordWarning

from ._constants import CONTENT_TYPES, EVENT_CHANNELS, MAX_EVENT_AGE_DAYS
from ._events import EventNames
from ._hashing import hash_email
from ._keys import (
    EMAIL_INVALID,
    EMAIL_MISSING,
    EMAIL_PARTLY_INVALID,
    MATCH_KEY_COLUMNS,
    MatchKeys,
    all_missing,
)
from ._money import line_value, parse_amount, parse_currency, parse_quantity
from ._phones import PhoneHasher
from ._sources import source_of
from ._times import parse_event_time
from ._values import event_id_deriver, text_of

__all__ = [
    "CRM_ONLY_COLUMNS",
    "EventPreparer",
    "FIELDS",
    "FUTURE_SKEW_SECONDS",
    "WEB_ONLY_COLUMNS",
    "fields_for",
]

# How far ahead of our clock an event may be, for clocks that disagree a little.
FUTURE_SKEW_SECONDS = 300

# Optional text columns as (input column, key in the event section they go to).
_CONTENT_TEXT = tuple(
    (name, name) for name in ("content_id", "content_name", "content_category", "brand")
)
_PROPERTY_TEXT = tuple((name, name) for name in ("order_id", "shop_id", "description"))
_WEB_USER_TEXT = (
    ("agent", "user_agent"),
    ("cookie_id", "ttp"),
    ("tiktok_click_id", "ttclid"),
    ("locale", "locale"),
)
_WEB_PAGE_TEXT = (("page_url", "url"), ("referrer_url", "referrer"))
WEB_ONLY_COLUMNS = ("ip",) + tuple(column for column, _ in _WEB_USER_TEXT + _WEB_PAGE_TEXT)
CRM_ONLY_COLUMNS = ("lead_id",)

# The input columns prepare reads, in the order it receives their values. The first
# twelve are unpacked by name in prepare; the others are reached through the
# positions compiled in start. ``fields_for`` adds the columns a destination derives
# event ids from.
FIELDS = (
    (
        "event",
        "event_id",
        "timestamp",
        "email",
        "phone",
        "external_id",
        "event_set_id",
        "value",
        "price",
        "quantity",
        "currency",
        "event_source",
        "content_type",
        "event_channel",
    )
    + tuple(column for column, _ in _CONTENT_TEXT + _PROPERTY_TEXT)
    + WEB_ONLY_COLUMNS
    + MATCH_KEY_COLUMNS
    + CRM_ONLY_COLUMNS
)
_POSITION = {column: position for position, column in enumerate(FIELDS)}
_IP = _POSITION["ip"]
_LEAD_ID = _POSITION["lead_id"]


def fields_for(settings: Mapping[str, Any]) -> tuple[str, ...]:
    """The columns prepare reads for these settings: ``FIELDS``, then the columns of
    ``event_id_columns`` that are not among them."""
    derived = settings.get("event_id_columns") or ()
    return FIELDS + tuple(column for column in dict.fromkeys(derived) if column not in FIELDS)


def _reject(code: str, message: str) -> RecordError:
    return RecordError(code, code.partition(".")[0], message)


def _warn(code: str, message: str) -> RecordWarning:
    return RecordWarning(code, code.partition(".")[0], message)


_EVENT_ID_MISSING = _reject(
    "event_id.missing",
    "event_id is required: TikTok deduplicates on it, so retries are safe (the "
    "event_id_columns setting can derive it from other columns)",
)
_EVENT_ID_NOT_DERIVED = _reject(
    "event_id.missing",
    "event_id is missing and so is every column of event_id_columns it is derived from",
)
_EVENT_ID_INVALID = _reject(
    "event_id.invalid",
    "event_id must be text or a finite number, not a list, object or boolean",
)
_EVENT_ID_UNDERIVABLE = _reject(
    "event_id.invalid",
    "event_id is derived from event_id_columns, and one of them holds a list, object, "
    "boolean or a number that is not finite",
)
_LEAD_ID_MISSING = _reject(
    "lead_id.missing",
    "lead_id is required for CRM events: it is the CRM's id of the lead the event is about",
)
_LEAD_ID_INVALID = _reject(
    "lead_id.invalid", "lead_id must be text or a finite number, not a list, object or boolean"
)
_TIMESTAMP_MISSING = _reject("timestamp.missing", "timestamp is required")
_TIMESTAMP_INVALID = _reject(
    "timestamp.invalid", "timestamp is neither ISO 8601 nor Unix seconds or milliseconds"
)
_TIMESTAMP_IN_FUTURE = _reject(
    "timestamp.in_future",
    f"timestamp is more than {FUTURE_SKEW_SECONDS // 60} minutes in the future; "
    "a timestamp without an offset is read as UTC",
)
_VALUE_INVALID = _reject("value.invalid", "value must be a non-negative finite number")
_VALUE_OVERFLOWS = _reject(
    "value.invalid",
    "value is price x quantity, and that is too large a number for TikTok to receive",
)
_PRICE_INVALID = _reject("price.invalid", "price must be a non-negative number")
_QUANTITY_INVALID = _reject(
    "quantity.invalid", "quantity must be a non-negative whole number below 2^53"
)
_CURRENCY_INVALID = _reject(
    "currency.invalid", "currency must be an ISO 4217 code of a circulating currency, e.g. USD"
)
_CURRENCY_MISSING = _reject(
    "currency.missing",
    "currency is required with a value (TikTok reports revenue only with both): "
    "add a currency column or set the destination's default currency",
)

_IP_INVALID = _warn("ip.invalid", "ip is not an IPv4 or IPv6 address; dropped")
_CONTENT_TYPE_INVALID = _warn(
    "content_type.invalid", "content_type must be product or product_group; dropped"
)
_EVENT_CHANNEL_INVALID = _warn(
    "event_channel.invalid",
    f"event_channel must be one of {', '.join(sorted(EVENT_CHANNELS))}; dropped",
)
_EVENT_SOURCE_IGNORED = _warn(
    "event_source.ignored",
    "event_source comes from the destination's setting; the row's value is ignored",
)
_WEB_ONLY = {
    column: _warn(
        f"{column}.web_only",
        f"{column} is sent only by a destination whose event source is web; dropped",
    )
    for column in WEB_ONLY_COLUMNS
}
_CRM_ONLY = {
    column: _warn(
        f"{column}.crm_only",
        f"{column} is sent only by a destination whose event source is crm; dropped",
    )
    for column in CRM_ONLY_COLUMNS
}
_NOT_TEXT = {
    column: _warn(
        f"{column}.invalid",
        f"{column} must be text or a number, not a list, object or boolean; dropped",
    )
    for column, _ in _CONTENT_TEXT + _PROPERTY_TEXT + _WEB_USER_TEXT + _WEB_PAGE_TEXT
}


def _copy_text(values: tuple, specs: tuple, target: dict, warnings: list) -> None:
    """Copy optional text columns into ``target``, warning about unusable values."""
    for position, key, warning in specs:
        value = values[position]
        if value is None or value == "":
            continue
        try:
            text = value.strip() if value.__class__ is str else text_of(value)
        except ValueError:
            warnings.append(warning)
            continue
        if text:
            target[key] = text


def _copy_choices(values: tuple, specs: tuple, target: dict, warnings: list) -> None:
    """Copy values that must come from a fixed list (compared in lower case)."""
    for position, key, allowed, warning in specs:
        value = values[position]
        if value is None or value == "":
            continue
        try:
            text = (value.strip() if value.__class__ is str else text_of(value)).lower()
        except ValueError:
            warnings.append(warning)
            continue
        if text in allowed:
            target[key] = text
        elif text:
            warnings.append(warning)


def _carries_something(value: Any) -> bool:
    """Whether a column holds a value, usable or not, as opposed to nothing."""
    try:
        return bool(text_of(value))
    except ValueError:
        return True


def _ttclid_in(url: str) -> str | None:
    """The ttclid query parameter of a page URL (TikTok appends it to the landing page
    of an ad click), or None."""
    try:
        query = urlsplit(url).query
    except ValueError:  # a malformed URL, such as an unclosed IPv6 bracket
        return None
    for clid in parse_qs(query).get("ttclid", ()):
        clid = clid.strip()
        if clid:
            return clid
    return None


_CHOICES = (
    ("content_type", CONTENT_TYPES, _CONTENT_TYPE_INVALID),
    ("event_channel", EVENT_CHANNELS, _EVENT_CHANNEL_INVALID),
)


class EventPreparer:
    """Turns input rows into TikTok events for one destination's settings."""

    def __init__(self, settings: Mapping[str, Any], *, clock: Callable[[], float] = time.time):
        self._clock = clock
        source = source_of(settings)
        self._web = source.web_fields
        self._lead = source.lead
        self._lead_event_source = settings.get("lead_event_source")
        self._event_set_id = settings["event_set_id"]
        self.fields = fields_for(settings)
        self._events = EventNames(
            settings.get("fixed_event_name") or None,
            settings.get("event_name_map"),
            custom=source.custom_event_names,
        )
        self._known_events = self._events.known
        derived = settings.get("event_id_columns") or ()
        position = {column: index for index, column in enumerate(self.fields)}
        self._derive_event_id = (
            event_id_deriver([position[column] for column in derived]) if derived else None
        )
        self._default_currency = settings.get("default_currency") or None
        self._limited_data_use = self._web and bool(settings.get("limited_data_use"))
        self._phones = PhoneHasher(settings.get("default_phone_region") or "US")
        max_age_days = settings.get("max_event_age_days") or MAX_EVENT_AGE_DAYS
        self._max_age_seconds = max_age_days * 86400
        self._too_old = _reject(
            "timestamp.too_old",
            f"timestamp is more than {max_age_days} day{'' if max_age_days == 1 else 's'} old; "
            "TikTok does not attribute older events",
        )
        self._is_event_set_id = source.is_event_set_id
        self._event_set_id_invalid = _reject(
            "event_set_id.invalid",
            f"event_set_id must be digits, the id of the destination's kind of event set "
            f"({source.what})"
            if source.digit_ids
            else "event_set_id must be a pixel code (upper-case letters and digits)",
        )
        self._phone_invalid = _warn(
            "phone.invalid",
            "phone is neither E.164 nor a valid number in the default region "
            f"{self._phones.default_region} or with a + in front; dropped",
        )
        self._keys = MatchKeys(self._phones, self._phone_invalid)
        self.start(None)

    def start(self, columns: Sequence[str] | None) -> None:
        """Compile for a run. ``columns`` lists every column rows may carry, or is None
        when the reader cannot know (then every known column is looked at in every row)."""
        present = None if columns is None else frozenset(columns)
        self._keys.start(_POSITION, present)
        self._extra_emails = self._keys.extra_emails
        self._read_optional_keys = self._keys.read_optional

        def kept(specs: tuple) -> tuple:
            return tuple(
                (_POSITION[column], key, _NOT_TEXT[column])
                for column, key in specs
                if present is None or column in present
            )

        self._content_text = kept(_CONTENT_TEXT)
        self._property_text = kept(_PROPERTY_TEXT)
        self._choices = tuple(
            (_POSITION[column], column, allowed, warning)
            for column, allowed, warning in _CHOICES
            if present is None or column in present
        )
        self._web_user_text = kept(_WEB_USER_TEXT) if self._web else ()
        self._web_page_text = kept(_WEB_PAGE_TEXT) if self._web else ()
        # The columns this source does not send, with the warning for a row that has one.
        not_sent = {} if self._web else dict(_WEB_ONLY)
        if not self._lead:
            not_sent.update(_CRM_ONLY)
        self._not_sent_present = tuple(
            (_POSITION[column], warning)
            for column, warning in not_sent.items()
            if present is None or column in present
        )

    def prepare(self, values: tuple, warnings: list) -> tuple[str, dict] | RecordError:
        """``(event_source_id, event)`` for a row's ``FIELDS`` values, or the RecordError
        that rejects it.

        Every check that can reject runs before the first warning is added, so a
        rejected row never leaves warnings behind.
        """
        (
            event,
            event_id,
            timestamp,
            email,
            phone,
            external_id,
            row_set_id,
            value,
            price,
            quantity,
            currency,
            event_source,
        ) = values[:12]

        if event.__class__ is str and (known := self._known_events.get(event)) is not None:
            event, legacy = known
        else:
            resolved = self._events.resolve(event)
            # mypy does not narrow on __class__, the cheapest test on this path.
            if resolved.__class__ is RecordError:
                return resolved
            event, legacy = resolved  # type: ignore[misc]

        try:
            event_id = event_id.strip() if event_id.__class__ is str else text_of(event_id)
        except ValueError:
            return _EVENT_ID_INVALID
        if not event_id:
            if self._derive_event_id is None:
                return _EVENT_ID_MISSING
            try:
                event_id = self._derive_event_id(values)
            except ValueError:
                return _EVENT_ID_UNDERIVABLE
            if event_id is None:
                return _EVENT_ID_NOT_DERIVED

        lead_id = None
        if self._lead:
            lead_id = values[_LEAD_ID]
            try:
                lead_id = lead_id.strip() if lead_id.__class__ is str else text_of(lead_id)
            except ValueError:
                return _LEAD_ID_INVALID
            if not lead_id:
                return _LEAD_ID_MISSING

        try:
            event_time = parse_event_time(timestamp)
        except ValueError:
            return _TIMESTAMP_INVALID
        if event_time is None:
            return _TIMESTAMP_MISSING
        now = self._clock()
        if event_time < now - self._max_age_seconds:
            return self._too_old
        if event_time > now + FUTURE_SKEW_SECONDS:
            return _TIMESTAMP_IN_FUTURE

        extras = () if self._extra_emails is None else self._extra_emails(values)
        if email.__class__ is str and (not extras or all_missing(extras)):
            email = email.strip()
            if not email:
                return EMAIL_MISSING
            email = hash_email(email)
            if email is None:
                return EMAIL_INVALID
            email_dropped = False
        else:
            emails = self._keys.emails(email, extras)
            if emails.__class__ is RecordError:
                return emails
            email, email_dropped = emails  # type: ignore[misc]

        event_source_id = self._event_set_id
        if row_set_id is not None and row_set_id != "":
            try:
                row_set_id = text_of(row_set_id)
            except ValueError:
                return self._event_set_id_invalid
            if row_set_id:
                if self._is_event_set_id(row_set_id) is None:
                    return self._event_set_id_invalid
                event_source_id = row_set_id

        priced: dict = {}
        properties = self._read_money(value, price, quantity, currency, priced)
        if properties.__class__ is RecordError:
            return properties

        # From here on nothing rejects: optional fields are dropped with a warning.
        if legacy is not None:
            warnings.append(legacy)
        user = {"email": email}
        if email_dropped:
            warnings.append(EMAIL_PARTLY_INVALID)
        self._read_optional_keys(phone, external_id, values, user, warnings)
        page: dict[str, Any] | None = None
        if self._web:
            page = {}
            self._read_web(values, user, page, warnings)
        if self._not_sent_present:
            for position, warning in self._not_sent_present:
                if _carries_something(values[position]):
                    warnings.append(warning)
        # mypy does not narrow on __class__ (a RecordError returned above); that test
        # is kept because it is the cheapest on this path.
        self._read_properties(values, properties, priced, warnings)  # type: ignore[arg-type]
        if event_source is not None and event_source != "" and _carries_something(event_source):
            warnings.append(_EVENT_SOURCE_IGNORED)

        result = {"event": event, "event_time": event_time, "event_id": event_id, "user": user}
        if properties:
            result["properties"] = properties
        if page:
            result["page"] = page
        if lead_id is not None:
            result["lead"] = {"lead_id": lead_id, "lead_event_source": self._lead_event_source}
        if self._limited_data_use:
            result["limited_data_use"] = True
        return event_source_id, result

    def _read_money(
        self, value: Any, price: Any, quantity: Any, currency: Any, priced: dict
    ) -> dict | RecordError:
        """The ``properties`` dict started with value and currency; price and quantity
        go to ``priced``, the money half of contents[0]. Money problems reject the row."""
        # Empty cells are common: test for them before paying for a call.
        if value is not None and value != "":
            try:
                value = parse_amount(value)
            except ValueError:
                return _VALUE_INVALID
        else:
            value = None
        if price is not None and price != "":
            try:
                price = parse_amount(price)
            except ValueError:
                return _PRICE_INVALID
        else:
            price = None
        if quantity is not None and quantity != "":
            try:
                quantity = parse_quantity(quantity)
            except ValueError:
                return _QUANTITY_INVALID
        else:
            quantity = None
        if currency is not None and currency != "":
            try:
                currency = parse_currency(currency)
            except ValueError:
                return _CURRENCY_INVALID
        else:
            currency = None

        if value is None and price is not None and quantity is not None:
            try:
                value = line_value(price, quantity)
            except ValueError:
                return _VALUE_OVERFLOWS
        if currency is None and (value is not None or price is not None):
            currency = self._default_currency
        properties: dict = {}
        if value is not None:
            if currency is None:
                return _CURRENCY_MISSING
            properties["value"] = value
        if currency is not None:
            properties["currency"] = currency
        if price is not None:
            priced["price"] = price
        if quantity is not None:
            priced["quantity"] = quantity
        return properties

    def _read_web(self, values: tuple, user: dict, page: dict, warnings: list) -> None:
        ip = values[_IP]
        if ip is not None and ip != "":
            try:
                ip = text_of(ip)
                if ip:
                    ipaddress.ip_address(ip)
                    user["ip"] = ip
            except ValueError:
                warnings.append(_IP_INVALID)
        _copy_text(values, self._web_user_text, user, warnings)
        _copy_text(values, self._web_page_text, page, warnings)
        # Without a click id of its own, the event takes the one in its landing page.
        if "ttclid" not in user:
            url = page.get("url")
            if url is not None and "ttclid=" in url:
                clid = _ttclid_in(url)
                if clid is not None:
                    user["ttclid"] = clid

    def _read_properties(
        self, values: tuple, properties: dict, priced: dict, warnings: list
    ) -> None:
        # The tuples hold only the columns this run's input has; most are empty.
        content = priced
        if self._content_text:
            content = {}
            _copy_text(values, self._content_text, content, warnings)
            content.update(priced)
        if content:
            properties["contents"] = [content]
        if self._property_text:
            _copy_text(values, self._property_text, properties, warnings)
        if self._choices:
            _copy_choices(values, self._choices, properties, warnings)
