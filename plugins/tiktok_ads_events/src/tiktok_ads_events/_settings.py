"""The credential type and the destination settings schema, with the rules an operator
meets when saving: every message names the rule, never the value given."""

from __future__ import annotations

import difflib
from typing import Any

import phonenumbers
from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from amp_destinations import CredentialType, Secret, SecureUrl

from ._authorization import TikTokAuthorization
from ._constants import (
    DEFAULT_API_BASE_URL,
    MAX_CUSTOM_EVENT_NAME_LENGTH,
    MAX_EVENT_AGE_DAYS,
    NAME,
    STANDARD_EVENTS,
    TITLE,
)
from ._money import CURRENCY_CODES
from ._sources import OFFLINE, SOURCES

__all__ = [
    "CUSTOM_EVENT_NAME_RULE",
    "TikTokCredentialType",
    "TikTokSettingsSchema",
    "is_custom_event_name",
    "standard_event_suggestion",
]

_DIGITS = r"^[0-9]+$"
_EVENT_SET_ID = r"^[0-9A-Z]+$"
_STANDARD_BY_LOWER = {name.lower(): name for name in STANDARD_EVENTS}


def standard_event_suggestion(name: str) -> str | None:
    """The standard event name an operator probably meant, for a "did you mean"."""
    exact_case = _STANDARD_BY_LOWER.get(name.strip().lower())
    if exact_case:
        return exact_case
    close = difflib.get_close_matches(name.strip(), sorted(STANDARD_EVENTS), n=1, cutoff=0.8)
    return close[0] if close else None


class IdString(fields.String):
    """An id TikTok issues as a long number, kept as a string so that no digit is lost.

    A Python int is accepted and written out exactly; a float is refused because a
    19-digit number has already lost its last digits by the time it is a float.
    """

    default_error_messages = {
        "float": "must be a string of digits in quotes: as a number it has lost digits.",
    }

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        elif isinstance(value, float):
            raise self.make_error("float")
        return super()._deserialize(value, attr, data, **kwargs).strip()


CUSTOM_EVENT_NAME_RULE = (
    f"at most {MAX_CUSTOM_EVENT_NAME_LENGTH} printable characters, not only spaces"
)


def is_custom_event_name(name: str) -> bool:
    """Whether a name, already trimmed, may be sent as a custom event (CRM events)."""
    return 0 < len(name) <= MAX_CUSTOM_EVENT_NAME_LENGTH and name.isprintable()


class EventName(validate.Validator):
    """An event name of a shape any event source could take; whether it must also be a
    standard name depends on the event source, which the schema checks."""

    def __call__(self, value):
        if not is_custom_event_name(value.strip()):
            raise ValidationError(f"must be an event name: {CUSTOM_EVENT_NAME_RULE}.")
        return value


class StandardEventName(validate.OneOf):
    """One of TikTok's standard event names, case-sensitive, with a "did you mean"."""

    def __init__(self):
        super().__init__(sorted(STANDARD_EVENTS))

    def __call__(self, value):
        if value in self.choices:
            return value
        suggestion = standard_event_suggestion(value) if isinstance(value, str) else None
        hint = f" (did you mean {suggestion}?)" if suggestion else ""
        raise ValidationError(
            f"must be a TikTok standard event name, case-sensitive{hint}; "
            "see the plugin README for the list."
        )


def _blank_to_none(value):
    if isinstance(value, str) and not value.strip():
        return None
    return value.strip() if isinstance(value, str) else value


class _OptionalText(fields.String):
    """Optional text: surrounding spaces trimmed, and blank means not set."""

    def _deserialize(self, value, attr, data, **kwargs):
        return _blank_to_none(super()._deserialize(value, attr, data, **kwargs))

    def _validate(self, value):
        if value is not None:
            super()._validate(value)


class TikTokCredentialSchema(Schema):
    refresh_token = Secret(
        required=True,
        validate=validate.Length(min=1, error="must not be empty."),
        metadata={
            "description": (
                "Token from TikTok's OAuth flow. Advertiser accounts get a long-term token "
                "that is sent as it is; with app_id and app_secret it is exchanged for "
                "short-lived access tokens and rotated automatically."
            )
        },
    )
    app_id = fields.String(
        load_default=None,
        allow_none=True,
        metadata={
            "description": (
                "TikTok developer app id. Give it with app_secret to enable the refresh "
                "exchange; leave both out to use the refresh token directly."
            )
        },
    )
    app_secret = Secret(
        load_default=None,
        allow_none=True,
        metadata={"description": "TikTok developer app secret, given together with app_id."},
    )
    api_base_url = SecureUrl(
        load_default=None,
        allow_none=True,
        metadata={
            "description": (
                "Where this credential is authorized and its advertisers are listed: leave it "
                "out for TikTok; set it only to point at the local emulator (plain http is "
                "allowed only for 127.0.0.1 or localhost)."
            )
        },
    )

    @validates_schema
    def _app_credentials_together(self, data, **kwargs):
        app_id = _blank_to_none(data.get("app_id"))
        app_secret = _blank_to_none(data.get("app_secret"))
        message = (
            "app_id and app_secret go together: give both to enable the token refresh "
            "exchange, or neither to use the refresh token directly."
        )
        if app_id and not app_secret:
            raise ValidationError(message, field_name="app_secret")
        if app_secret and not app_id:
            raise ValidationError(message, field_name="app_id")


class TikTokCredentialType(CredentialType):
    name = NAME
    title = TITLE
    schema = TikTokCredentialSchema
    authorization = TikTokAuthorization


class TikTokSettingsSchema(Schema):
    advertiser_id = IdString(
        required=True,
        validate=validate.Regexp(
            _DIGITS,
            error="must contain digits only (TikTok advertiser ids are about 19 digits).",
        ),
        metadata={
            "description": (
                "The TikTok ad account (advertiser) id, about 19 digits. In TikTok Ads "
                "Manager it is shown in the account menu at the top right."
            )
        },
    )
    event_set_id = IdString(
        required=True,
        validate=validate.Regexp(
            _EVENT_SET_ID,
            error="must contain only digits and upper-case letters (an event set id or a "
            "pixel code).",
        ),
        metadata={
            "description": (
                "Offline: the offline event set id, about 19 digits (Assets > Events > "
                "Offline > Manage; the id is under the set's name). Web: the pixel code, "
                "about 20 upper-case letters and digits. CRM: the CRM event set id, about "
                "19 digits (Events Manager, at the top left of the CRM event set)."
            )
        },
    )
    event_set_name = _OptionalText(
        load_default=None,
        allow_none=True,
        metadata={
            "description": (
                "The event set's name in TikTok. When given, the connection test checks "
                "that the event set id points at a set of this name."
            )
        },
    )
    event_source = fields.String(
        load_default=OFFLINE,
        validate=validate.OneOf(list(SOURCES), error="must be offline, web or crm."),
        metadata={
            "description": (
                "offline for in-store or phone events measured by an offline event set; "
                "web for website events measured by a pixel; crm for lead events from a "
                "CRM, measured by a CRM event set. Rows never set it."
            )
        },
    )
    lead_event_source = _OptionalText(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=64, error="must be at most 64 characters."),
        metadata={
            "description": (
                "CRM only, and required there: the CRM the leads come from, such as "
                "HubSpot or Salesforce, sent with every event as lead.lead_event_source."
            )
        },
    )
    auto_tracking = fields.Boolean(
        load_default=False,
        metadata={
            "description": (
                "Use this offline event set for ad tracking and attribution. Saving the "
                "destination applies it to the event set in TikTok. Offline only."
            )
        },
    )
    test_event_code = _OptionalText(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=64, error="must be at most 64 characters."),
        metadata={
            "description": (
                "The test event code from TikTok's Events Manager (Test events tab). Events "
                "sent with it show up as test events only; clear it for production."
            )
        },
    )
    limited_data_use = fields.Boolean(
        load_default=False,
        metadata={
            "description": (
                "Web only: flag events for limited data use, for users of states with "
                "privacy laws that require it."
            )
        },
    )
    fixed_event_name = _OptionalText(
        load_default=None,
        allow_none=True,
        validate=EventName(),
        metadata={
            "description": (
                "A standard event name (such as Purchase; CRM events may also use a custom "
                "name) used for rows that carry no event column."
            )
        },
    )
    default_phone_region = fields.String(
        load_default="US",
        metadata={
            "description": (
                "The region (ISO 3166 alpha-2, such as US or GB) used to read phone numbers "
                "written without a leading + and country code."
            )
        },
    )
    default_currency = _OptionalText(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(
            sorted(CURRENCY_CODES),
            error="must be the upper-case ISO 4217 code of a circulating currency, such as USD.",
        ),
        metadata={
            "description": (
                "ISO 4217 currency code used for rows that carry a value or price but no "
                "currency column."
            )
        },
    )
    api_base_url = SecureUrl(
        load_default=DEFAULT_API_BASE_URL,
        metadata={
            "description": (
                "The TikTok API for Business address. Change it only to point at the local "
                "emulator (plain http is allowed only for 127.0.0.1 or localhost)."
            )
        },
    )
    max_event_age_days = fields.Integer(
        load_default=MAX_EVENT_AGE_DAYS,
        validate=validate.Range(
            min=1,
            max=MAX_EVENT_AGE_DAYS,
            error=f"must be a whole number of days from 1 to {MAX_EVENT_AGE_DAYS} "
            "(TikTok attributes events up to 28 days old).",
        ),
        metadata={
            "description": (
                "Rows whose timestamp is older than this many days are rejected before "
                "sending. TikTok's own limit is 28."
            )
        },
    )
    event_name_map = fields.Dict(
        keys=fields.String(),
        values=fields.String(validate=EventName()),
        load_default=dict,
        metadata={
            "description": (
                'Input event names to TikTok standard names, such as {"order completed": '
                '"Purchase"} (CRM events may also map to custom names). Keys are compared '
                "without case and surrounding spaces; the map applies before a row's event "
                "is checked."
            )
        },
    )
    event_id_columns = fields.List(
        fields.String(validate=validate.Length(min=1, error="must not be empty.")),
        load_default=None,
        allow_none=True,
        metadata={
            "description": (
                "Columns to derive event_id from for rows without one: the SHA-256 of their "
                "values, never salted, so a file sent again is deduplicated by TikTok "
                "(see the plugin's REASON_CODES.md for how the values are joined)."
            )
        },
    )

    @validates("default_phone_region")
    def _known_region(self, value, data_key):
        if value not in phonenumbers.SUPPORTED_REGIONS:
            raise ValidationError(
                "must be a region code phone numbers are known for, in upper case "
                "(ISO 3166 alpha-2, such as US or GB)."
            )

    @validates("event_name_map")
    def _unambiguous_map(self, value, data_key):
        seen: dict[str, str] = {}
        for key, name in value.items():
            folded = key.strip().casefold()
            if not folded:
                raise ValidationError("has an empty key: each key is an input event name.")
            if seen.setdefault(folded, name) != name:
                raise ValidationError(
                    f"maps {key!r} twice, to different names: keys are compared without "
                    "case and surrounding spaces."
                )

    @validates("event_id_columns")
    def _distinct_columns(self, value, data_key):
        if value is None:
            return
        if not value:
            raise ValidationError("must name at least one column, or be left unset.")
        if len(set(value)) != len(value):
            raise ValidationError("names a column twice.")
        if "event_id" in value:
            raise ValidationError(
                "must not name event_id: it lists the columns event_id is derived from."
            )

    @validates_schema
    def _rules_per_event_source(self, data: dict[str, Any], **kwargs: Any) -> None:
        source = SOURCES[data.get("event_source", OFFLINE)]
        event_set_id = data.get("event_set_id")
        errors: dict[str, Any] = {}
        if event_set_id and event_set_id.isdigit() != source.digit_ids:
            errors["event_set_id"] = [source.event_set_id_rule]
        if data.get("limited_data_use") and not source.web_fields:
            errors["limited_data_use"] = [
                "applies to web events only; turn it off or set event_source to web."
            ]
        if data.get("auto_tracking") and not source.auto_tracking:
            errors["auto_tracking"] = [
                "applies to offline event sets only; turn it off or set event_source to offline."
            ]
        lead_event_source = data.get("lead_event_source")
        # A partial load (listing choices before the rest is given) requires nothing.
        required = not (kwargs.get("partial") and "lead_event_source" not in data)
        if source.lead and not lead_event_source and required:
            errors["lead_event_source"] = [
                "is required for CRM events: name the CRM the leads come from, such as "
                "HubSpot or Salesforce (TikTok shows it with each lead)."
            ]
        elif lead_event_source and not source.lead:
            errors["lead_event_source"] = [
                "applies to CRM events only; clear it or set event_source to crm."
            ]
        if not source.custom_event_names:
            errors.update(_standard_names_only(data))
        if errors:
            raise ValidationError(errors)


def _standard_names_only(data: dict[str, Any]) -> dict[str, Any]:
    """Errors for event names that are not standard, for a source that takes no others."""
    standard = StandardEventName()
    errors: dict[str, Any] = {}
    fixed = data.get("fixed_event_name")
    try:
        if fixed:
            standard(fixed)
    except ValidationError as exc:
        errors["fixed_event_name"] = exc.messages
    refused = {}
    for key, name in (data.get("event_name_map") or {}).items():
        try:
            standard(name)
        except ValidationError as exc:
            refused[key] = {"value": exc.messages}
    if refused:
        errors["event_name_map"] = refused
    return errors
