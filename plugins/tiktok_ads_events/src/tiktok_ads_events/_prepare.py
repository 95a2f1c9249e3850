"""One input row to one TikTok event: the plugin's hot path.

``EventPreparer`` is built once per destination and compiled once per run
(``start``); ``prepare`` is then plain Python over precomputed tuples and sets. It
takes a row as the tuple of its ``FIELDS`` values, which the host picks out of each
input row by position (None for a column the input lacks).

A bad required field or bad money rejects the row with a ``RecordError``; a bad
optional field is dropped with a ``RecordWarning``. Messages name the field and the
rule, never the value. Every reason code is listed in REASON_CODES.md.
"""

from __future__ import annotations

import ipaddress
import re
import time
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from amp_destinations import RecordError, RecordWarning

from ._constants import CONTENT_TYPES, EVENT_CHANNELS, MAX_EVENT_AGE_DAYS, STANDARD_EVENTS
from ._hashing import hash_email, hash_external_id
from ._money import line_value, parse_amount, parse_currency, parse_quantity
from ._phones import PhoneHasher
from ._settings import standard_event_suggestion
from ._times import parse_event_time

__all__ = ["EventPreparer", "FIELDS", "FUTURE_SKEW_SECONDS", "WEB_ONLY_COLUMNS"]

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

# The input columns prepare reads, in the order it receives their values. The first
# twelve are unpacked by name in prepare; the others are reached through the
# positions compiled in start.
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
)
_POSITION = {column: position for position, column in enumerate(FIELDS)}
_IP = _POSITION["ip"]

_is_offline_event_set_id = re.compile(r"[0-9]+").fullmatch
# As the settings schema has it: upper-case letters and digits, not digits alone.
_is_pixel_code = re.compile(r"(?=[0-9]*[A-Z])[A-Z0-9]+").fullmatch


def _text(value: Any) -> str:
    """Trimmed text, "" when missing; numbers from JSON as written. ValueError for a
    JSON list, object or boolean. The hot path inlines the plain-string case."""
    if value.__class__ is str:
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return value.strip()
    raise ValueError("not text")


def _reject(code: str, message: str) -> RecordError:
    return RecordError(code, code.partition(".")[0], message)


def _warn(code: str, message: str) -> RecordWarning:
    return RecordWarning(code, code.partition(".")[0], message)


_EVENT_MISSING = _reject(
    "event.missing",
    "event is required: give the row an event, or set the destination's fixed event name",
)
_EVENT_ID_MISSING = _reject(
    "event_id.missing", "event_id is required: TikTok deduplicates on it, so retries are safe"
)
_EVENT_ID_INVALID = _reject(
    "event_id.invalid", "event_id must be text or a number, not a list, object or boolean"
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
_EMAIL_MISSING = _reject(
    "email.missing", "email is required: it is the audience key TikTok matches on"
)
_EMAIL_INVALID = _reject(
    "email.invalid",
    "email is neither an email address (one @, a dotted domain, no spaces) "
    "nor a SHA-256 hex digest",
)
_VALUE_INVALID = _reject("value.invalid", "value must be a non-negative number")
_PRICE_INVALID = _reject("price.invalid", "price must be a non-negative number")
_QUANTITY_INVALID = _reject("quantity.invalid", "quantity must be a non-negative whole number")
_CURRENCY_INVALID = _reject(
    "currency.invalid", "currency must be an ISO 4217 code of a circulating currency, e.g. USD"
)
_CURRENCY_MISSING = _reject(
    "currency.missing",
    "currency is required with a value (TikTok reports revenue only with both): "
    "add a currency column or set the destination's default currency",
)

_EXTERNAL_ID_INVALID = _warn("external_id.invalid", "external_id must be text or a number; dropped")
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
_NOT_TEXT = {
    column: _warn(
        f"{column}.invalid",
        f"{column} must be text or a number, not a list, object or boolean; dropped",
    )
    for column, _ in _CONTENT_TEXT + _PROPERTY_TEXT + _WEB_USER_TEXT + _WEB_PAGE_TEXT
}


@lru_cache(maxsize=256)
def _unknown_event(name: str) -> RecordError:
    """The rejection for a name that is not standard, with the closest standard name
    when there is one. Cached: a file with one misspelling has it on every row."""
    # Without separators, "add_to_cart" and "Complete Payment" are case slips too.
    squeezed = name.replace("_", "").replace(" ", "").replace("-", "")
    suggestion = standard_event_suggestion(squeezed) if squeezed else None
    message = "event is not a TikTok standard event name (names are case-sensitive)"
    if suggestion is not None:
        message += f"; did you mean {suggestion!r}?"
    return _reject("event.unknown", message)


def _copy_text(values: tuple, specs: tuple, target: dict, warnings: list) -> None:
    """Copy optional text columns into ``target``, warning about unusable values."""
    for position, key, warning in specs:
        value = values[position]
        if value is None or value == "":
            continue
        try:
            text = value.strip() if value.__class__ is str else _text(value)
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
            text = (value.strip() if value.__class__ is str else _text(value)).lower()
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
        return bool(_text(value))
    except ValueError:
        return True


_CHOICES = (
    ("content_type", CONTENT_TYPES, _CONTENT_TYPE_INVALID),
    ("event_channel", EVENT_CHANNELS, _EVENT_CHANNEL_INVALID),
)


class EventPreparer:
    """Turns input rows into TikTok events for one destination's settings."""

    def __init__(self, settings: Mapping[str, Any], *, clock: Callable[[], float] = time.time):
        self._clock = clock
        self._web = settings.get("event_source") == "web"
        self._event_set_id = settings["event_set_id"]
        self._fixed_event = settings.get("fixed_event_name") or None
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
        if self._web:
            self._is_event_set_id = _is_pixel_code
            self._event_set_id_invalid = _reject(
                "event_set_id.invalid",
                "event_set_id must be a pixel code (upper-case letters and digits)",
            )
        else:
            self._is_event_set_id = _is_offline_event_set_id
            self._event_set_id_invalid = _reject(
                "event_set_id.invalid", "event_set_id must be an offline event set id (digits)"
            )
        self._phone_invalid = _warn(
            "phone.invalid",
            "phone is neither E.164 nor a possible number in the default region "
            f"{self._phones.default_region}; dropped",
        )
        self.start(None)

    def start(self, columns: Sequence[str] | None) -> None:
        """Compile for a run. ``columns`` lists every column rows may carry, or is None
        when the reader cannot know (then every known column is looked at in every row)."""
        present = None if columns is None else frozenset(columns)

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
        self._web_only_present = (
            ()
            if self._web
            else tuple(
                (_POSITION[column], _WEB_ONLY[column])
                for column in WEB_ONLY_COLUMNS
                if present is None or column in present
            )
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

        if event.__class__ is not str or event not in STANDARD_EVENTS:
            event = self._read_event(event)
            if event.__class__ is RecordError:
                return event

        try:
            event_id = event_id.strip() if event_id.__class__ is str else _text(event_id)
        except ValueError:
            return _EVENT_ID_INVALID
        if not event_id:
            return _EVENT_ID_MISSING

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

        try:
            email = email.strip() if email.__class__ is str else _text(email)
        except ValueError:
            return _EMAIL_INVALID
        if not email:
            return _EMAIL_MISSING
        email = hash_email(email)
        if email is None:
            return _EMAIL_INVALID

        event_source_id = self._event_set_id
        if row_set_id is not None and row_set_id != "":
            try:
                row_set_id = _text(row_set_id)
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
        user = {"email": email}
        self._read_user_ids(phone, external_id, user, warnings)
        page: dict[str, Any] | None = None
        if self._web:
            page = {}
            self._read_web(values, user, page, warnings)
        elif self._web_only_present:
            for position, warning in self._web_only_present:
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
        if self._limited_data_use:
            result["limited_data_use"] = True
        return event_source_id, result

    def _read_event(self, value: Any) -> str | RecordError:
        """The slow path for an event that is not exactly a standard name."""
        try:
            name = _text(value)
        except ValueError:
            return _unknown_event("")
        if not name:
            return self._fixed_event or _EVENT_MISSING
        if name in STANDARD_EVENTS:
            return name
        return _unknown_event(name)

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
            value = line_value(price, quantity)
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

    def _read_user_ids(self, phone: Any, external_id: Any, user: dict, warnings: list) -> None:
        if phone is not None and phone != "":
            try:
                phone = phone.strip() if phone.__class__ is str else _text(phone)
            except ValueError:
                warnings.append(self._phone_invalid)
                phone = ""
            if phone:
                digest = self._phones.hash(phone)
                if digest is None:
                    warnings.append(self._phone_invalid)
                else:
                    user["phone"] = digest
        if external_id is not None and external_id != "":
            try:
                external_id = (
                    external_id.strip() if external_id.__class__ is str else _text(external_id)
                )
            except ValueError:
                warnings.append(_EXTERNAL_ID_INVALID)
                return
            if external_id:
                user["external_id"] = hash_external_id(external_id)

    def _read_web(self, values: tuple, user: dict, page: dict, warnings: list) -> None:
        ip = values[_IP]
        if ip is not None and ip != "":
            try:
                ip = _text(ip)
                if ip:
                    ipaddress.ip_address(ip)
                    user["ip"] = ip
            except ValueError:
                warnings.append(_IP_INVALID)
        _copy_text(values, self._web_user_text, user, warnings)
        _copy_text(values, self._web_page_text, page, warnings)

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
