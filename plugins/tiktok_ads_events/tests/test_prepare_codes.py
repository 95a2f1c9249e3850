"""Every reason code ``prepare`` can give: each is produced by a row, documented in
REASON_CODES.md under the right heading, and none of their messages quotes a value."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from amp_destinations import RecordError, RecordWarning
from tiktok_ads_events._prepare import CRM_ONLY_COLUMNS, FIELDS, WEB_ONLY_COLUMNS, EventPreparer

REASON_CODES_MD = Path(__file__).resolve().parents[1] / "REASON_CODES.md"
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC).timestamp()
SETTINGS = {
    "offline": {
        "advertiser_id": "7654321098765432109",
        "event_set_id": "7123456789012345678",
        "event_source": "offline",
        "default_phone_region": "US",
    },
    "web": {
        "advertiser_id": "7654321098765432109",
        "event_set_id": "C4ABCDEFGH12IJKLMN90",
        "event_source": "web",
        "default_phone_region": "US",
    },
    "crm": {
        "advertiser_id": "7654321098765432109",
        "event_set_id": "7400000000000000001",
        "event_source": "crm",
        "lead_event_source": "HubSpot",
        "default_phone_region": "US",
    },
}
# Distinctive personal data, so that a leak into a message cannot go unnoticed.
ROW = {
    "event": "Purchase",
    "event_id": "evt-5512",
    "timestamp": "2026-03-01T11:00:00Z",
    "email": "Jane.Doe@Example.com",
    "phone": "+1 (415) 555-0132",
    "external_id": "crm-000417",
}
LEAD_ID = "hs-lead-5512"
TEXT_COLUMNS = (
    "content_id",
    "content_name",
    "content_category",
    "brand",
    "order_id",
    "shop_id",
    "description",
    "agent",
    "cookie_id",
    "tiktok_click_id",
    "locale",
    "page_url",
    "referrer_url",
)

# code -> (event source, what the row changes)
CASES = {
    "event.missing": ("offline", {"event": ""}),
    "event.unknown": ("offline", {"event": "purchase"}),
    "event_id.missing": ("offline", {"event_id": " "}),
    "event_id.invalid": ("offline", {"event_id": ["evt-5512"]}),
    "timestamp.missing": ("offline", {"timestamp": ""}),
    "timestamp.invalid": ("offline", {"timestamp": "soon"}),
    "timestamp.too_old": ("offline", {"timestamp": "2026-01-01T00:00:00Z"}),
    "timestamp.in_future": ("offline", {"timestamp": "2026-03-02T00:00:00Z"}),
    "email.missing": ("offline", {"email": None}),
    "email.invalid": ("offline", {"email": "Jane.Doe@Example"}),
    "event_set_id.invalid": ("offline", {"event_set_id": "PIXEL7"}),
    "value.invalid": ("offline", {"value": "-3.50", "currency": "USD"}),
    "price.invalid": ("offline", {"price": "ten", "currency": "USD"}),
    "quantity.invalid": ("offline", {"quantity": "1.5"}),
    "currency.invalid": ("offline", {"value": "3", "currency": "DOLLARS"}),
    "currency.missing": ("offline", {"value": "3"}),
    "phone.invalid": ("offline", {"phone": "555-0132"}),
    "event.renamed_to_purchase": ("offline", {"event": "CompletePayment"}),
    "event.renamed_to_lead": ("offline", {"event": "SubmitForm"}),
    "event.retiring_use_purchase": ("offline", {"event": "PlaceAnOrder"}),
    "event.retiring_use_lead": ("offline", {"event": "ClickButton"}),
    "email.partly_invalid": ("offline", {"email": ["Jane.Doe@Example", "Jane.Doe@Example.com"]}),
    "external_id.invalid": ("offline", {"external_id": {"id": "crm-000417"}}),
    "ip.invalid": ("web", {"ip": "198.51.100.300"}),
    "content_type.invalid": ("offline", {"content_type": "bundle"}),
    "event_channel.invalid": ("offline", {"event_channel": "kiosk"}),
    "event_source.ignored": ("offline", {"event_source": "offline"}),
    "event.invalid": ("crm", {"event": "Jane.Doe@Example.com " * 6, "lead_id": LEAD_ID}),
    "event.custom_looks_standard": ("crm", {"event": "purchase", "lead_id": LEAD_ID}),
    "lead_id.missing": ("crm", {"lead_id": " "}),
    "lead_id.invalid": ("crm", {"lead_id": {"id": LEAD_ID}}),
    **{f"{column}.crm_only": ("offline", {column: LEAD_ID}) for column in CRM_ONLY_COLUMNS},
    **{f"{column}.web_only": ("offline", {column: "198.51.100.23"}) for column in WEB_ONLY_COLUMNS},
    **{
        f"{column}.invalid": ("web", {column: {"value": "Jane.Doe@Example.com"}})
        for column in TEXT_COLUMNS
    },
}


def run(code: str):
    event_source, change = CASES[code]
    row = {key: value for key, value in {**ROW, **change}.items() if value is not None}
    warnings: list = []
    result = EventPreparer(SETTINGS[event_source], clock=lambda: NOW).prepare(
        tuple(map(row.get, FIELDS)), warnings
    )
    return row, result, warnings


def documented_codes() -> tuple[set[str], set[str]]:
    text = REASON_CODES_MD.read_text()
    rejections, _, warnings = text.partition("## Warnings")
    pattern = re.compile(r"^\| `([a-z_]+\.[a-z_]+)` \|", re.MULTILINE)
    return set(pattern.findall(rejections)), set(pattern.findall(warnings))


@pytest.mark.parametrize("code", sorted(CASES))
def test_every_code_is_produced_by_a_row(code):
    _, result, warnings = run(code)
    rejections, _ = documented_codes()
    if code in rejections:
        assert type(result) is RecordError and result.code == code
        assert result.field == code.split(".")[0]
        assert warnings == []
    else:
        assert isinstance(result, tuple), result
        assert code in [warning.code for warning in warnings]
        assert all(type(warning) is RecordWarning for warning in warnings)
        assert all(w.field == w.code.split(".")[0] for w in warnings)


def test_reason_codes_md_lists_exactly_the_codes_prepare_gives():
    rejections, warnings = documented_codes()
    assert rejections.isdisjoint(warnings)
    assert rejections | warnings == set(CASES)


def _raw_values(value) -> list[str]:
    if isinstance(value, str):
        return [value] if len(value.strip()) >= 3 else []
    if isinstance(value, dict):
        return [text for item in value.values() for text in _raw_values(item)]
    if isinstance(value, list):
        return [text for item in value for text in _raw_values(item)]
    return []


@pytest.mark.parametrize("code", sorted(CASES))
def test_no_message_quotes_a_value_from_the_row(code):
    row, result, warnings = run(code)
    reports = ([result] if isinstance(result, RecordError) else []) + warnings
    assert reports
    raw = [text for value in row.values() for text in _raw_values(value)]
    # Normalised forms too: the lower-cased email and the digits of the phone.
    raw += ["jane.doe@example.com", "4155550132", "5550132", "555-0132"]
    for report in reports:
        for text in (report.message, repr(report)):
            for value in raw:
                assert value not in text, (report.code, value)
