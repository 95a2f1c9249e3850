"""The settings schema and the credential type, as an operator saving them meets them."""

from __future__ import annotations

import pytest
from marshmallow import ValidationError

from tiktok_ads_events import TikTokCredentialType, TikTokSettingsSchema
from tiktok_ads_events._constants import DEFAULT_API_BASE_URL, STANDARD_EVENTS


def load(**data):
    return TikTokSettingsSchema().load(data)


def errors_of(**data) -> dict:
    with pytest.raises(ValidationError) as caught:
        load(**data)
    return caught.value.messages


def test_defaults_fill_every_optional_setting(tt):
    settings = load(advertiser_id=tt.ADVERTISER_ID, event_set_id=tt.EVENT_SET_ID)
    assert settings == {
        "advertiser_id": tt.ADVERTISER_ID,
        "event_set_id": tt.EVENT_SET_ID,
        "event_set_name": None,
        "event_source": "offline",
        "lead_event_source": None,
        "auto_tracking": False,
        "test_event_code": None,
        "limited_data_use": False,
        "fixed_event_name": None,
        "default_phone_region": "US",
        "default_currency": None,
        "api_base_url": DEFAULT_API_BASE_URL,
        "max_event_age_days": 28,
        "event_name_map": {},
        "event_id_columns": None,
    }


def test_advertiser_id_and_event_set_id_are_required():
    messages = errors_of()
    assert set(messages) == {"advertiser_id", "event_set_id"}


@pytest.mark.parametrize("bad", ["12a45", "-1234", "12 34", ""])
def test_advertiser_id_must_be_digits_and_the_message_names_the_rule(tt, bad):
    messages = errors_of(advertiser_id=bad, event_set_id=tt.EVENT_SET_ID)
    assert messages["advertiser_id"] == [
        "must contain digits only (TikTok advertiser ids are about 19 digits)."
    ]


def test_an_integer_advertiser_id_keeps_every_digit_as_a_string(tt):
    settings = load(advertiser_id=7654321098765432109, event_set_id=7123456789012345678)
    assert settings["advertiser_id"] == "7654321098765432109"
    assert settings["event_set_id"] == "7123456789012345678"


def test_a_float_advertiser_id_is_refused_because_it_has_lost_digits(tt):
    messages = errors_of(advertiser_id=7.654321098765432e18, event_set_id=tt.EVENT_SET_ID)
    assert "lost digits" in messages["advertiser_id"][0]


def test_ids_are_trimmed(tt):
    settings = load(advertiser_id=f" {tt.ADVERTISER_ID} ", event_set_id=f"{tt.EVENT_SET_ID}\n")
    assert (settings["advertiser_id"], settings["event_set_id"]) == (
        tt.ADVERTISER_ID,
        tt.EVENT_SET_ID,
    )


def test_offline_event_set_id_must_be_digits(tt):
    messages = errors_of(advertiser_id=tt.ADVERTISER_ID, event_set_id=tt.PIXEL_CODE)
    assert messages["event_set_id"][0].startswith("must contain digits only for offline events")
    assert "Assets > Events > Offline > Manage" in messages["event_set_id"][0]


def test_web_event_set_id_is_a_pixel_code(tt):
    settings = load(advertiser_id=tt.ADVERTISER_ID, event_set_id=tt.PIXEL_CODE, event_source="web")
    assert settings["event_set_id"] == tt.PIXEL_CODE
    messages = errors_of(
        advertiser_id=tt.ADVERTISER_ID, event_set_id=tt.EVENT_SET_ID, event_source="web"
    )
    assert messages["event_set_id"][0].startswith("must be the pixel code for web events")


def test_a_lower_case_pixel_code_is_refused(tt):
    messages = errors_of(
        advertiser_id=tt.ADVERTISER_ID, event_set_id=tt.PIXEL_CODE.lower(), event_source="web"
    )
    assert "upper-case letters" in messages["event_set_id"][0]


def test_event_source_is_offline_or_web(tt):
    messages = errors_of(
        advertiser_id=tt.ADVERTISER_ID, event_set_id=tt.EVENT_SET_ID, event_source="app"
    )
    assert messages == {"event_source": ["must be offline, web or crm."]}


def test_auto_tracking_is_for_offline_event_sets_only(tt):
    messages = errors_of(
        advertiser_id=tt.ADVERTISER_ID,
        event_set_id=tt.PIXEL_CODE,
        event_source="web",
        auto_tracking=True,
    )
    assert messages["auto_tracking"][0].startswith("applies to offline event sets only")


def test_limited_data_use_is_for_web_events_only(tt):
    messages = errors_of(
        advertiser_id=tt.ADVERTISER_ID, event_set_id=tt.EVENT_SET_ID, limited_data_use=True
    )
    assert messages["limited_data_use"][0].startswith("applies to web events only")
    settings = load(
        advertiser_id=tt.ADVERTISER_ID,
        event_set_id=tt.PIXEL_CODE,
        event_source="web",
        limited_data_use="true",
    )
    assert settings["limited_data_use"] is True


def test_values_from_the_command_line_are_typed_by_the_schema(tt):
    settings = load(
        advertiser_id=tt.ADVERTISER_ID,
        event_set_id=tt.EVENT_SET_ID,
        auto_tracking="true",
        max_event_age_days="14",
    )
    assert settings["auto_tracking"] is True
    assert settings["max_event_age_days"] == 14


@pytest.mark.parametrize("name", sorted(STANDARD_EVENTS))
def test_fixed_event_name_accepts_every_standard_event(tt, name):
    settings = load(
        advertiser_id=tt.ADVERTISER_ID, event_set_id=tt.EVENT_SET_ID, fixed_event_name=name
    )
    assert settings["fixed_event_name"] == name


@pytest.mark.parametrize(
    "given, suggestion",
    [
        ("completepayment", "CompletePayment"),
        ("Purchse", "Purchase"),
        ("Buy", None),
    ],
)
def test_fixed_event_name_suggests_the_standard_spelling(tt, given, suggestion):
    messages = errors_of(
        advertiser_id=tt.ADVERTISER_ID, event_set_id=tt.EVENT_SET_ID, fixed_event_name=given
    )
    message = messages["fixed_event_name"][0]
    assert message.startswith("must be a TikTok standard event name, case-sensitive")
    if suggestion:
        assert f"(did you mean {suggestion}?)" in message
    else:
        assert "did you mean" not in message


@pytest.mark.parametrize("region", ["US", "GB", "DE", "JP"])
def test_default_phone_region_accepts_known_regions(tt, region):
    settings = load(
        advertiser_id=tt.ADVERTISER_ID, event_set_id=tt.EVENT_SET_ID, default_phone_region=region
    )
    assert settings["default_phone_region"] == region


@pytest.mark.parametrize("region", ["XX", "us", "USA", ""])
def test_default_phone_region_refuses_unknown_regions(tt, region):
    messages = errors_of(
        advertiser_id=tt.ADVERTISER_ID, event_set_id=tt.EVENT_SET_ID, default_phone_region=region
    )
    assert messages["default_phone_region"][0].startswith("must be a region code")


def test_default_currency_is_a_circulating_iso_4217_code(tt):
    settings = load(
        advertiser_id=tt.ADVERTISER_ID, event_set_id=tt.EVENT_SET_ID, default_currency="EUR"
    )
    assert settings["default_currency"] == "EUR"
    for bad in ("usd", "US", "DOLLAR", "U5D", "ABC", "XTS"):
        messages = errors_of(
            advertiser_id=tt.ADVERTISER_ID, event_set_id=tt.EVENT_SET_ID, default_currency=bad
        )
        assert messages["default_currency"] == [
            "must be the upper-case ISO 4217 code of a circulating currency, such as USD."
        ]


def test_blank_optional_text_means_not_set(tt):
    settings = load(
        advertiser_id=tt.ADVERTISER_ID,
        event_set_id=tt.EVENT_SET_ID,
        event_set_name="  ",
        test_event_code="",
        default_currency=" ",
        fixed_event_name=None,
    )
    assert settings["event_set_name"] is None
    assert settings["test_event_code"] is None
    assert settings["default_currency"] is None
    assert settings["fixed_event_name"] is None


def test_test_event_code_is_kept_trimmed(tt):
    settings = load(
        advertiser_id=tt.ADVERTISER_ID, event_set_id=tt.EVENT_SET_ID, test_event_code=" TEST12345 "
    )
    assert settings["test_event_code"] == "TEST12345"


def test_api_base_url_must_be_https_except_on_loopback(tt):
    settings = load(
        advertiser_id=tt.ADVERTISER_ID,
        event_set_id=tt.EVENT_SET_ID,
        api_base_url="http://127.0.0.1:8765/",
    )
    assert settings["api_base_url"] == "http://127.0.0.1:8765"
    messages = errors_of(
        advertiser_id=tt.ADVERTISER_ID,
        event_set_id=tt.EVENT_SET_ID,
        api_base_url="http://business-api.tiktok.com",
    )
    assert messages["api_base_url"][0].startswith("must be an https:// URL")


@pytest.mark.parametrize(
    "base_url",
    ["https://ops:Pa55w0rd@business-api.tiktok.com", "http://ops:Pa55w0rd@127.0.0.1:8765"],
)
def test_api_base_url_with_a_user_name_or_password_is_refused(tt, base_url):
    # Before, the password was kept as a setting and printed in "could not reach ...".
    messages = errors_of(
        advertiser_id=tt.ADVERTISER_ID, event_set_id=tt.EVENT_SET_ID, api_base_url=base_url
    )
    assert messages["api_base_url"][0].startswith("must not carry a user name or password")
    assert "Pa55w0rd" not in str(messages)


@pytest.mark.parametrize("days", [0, 29, -3])
def test_max_event_age_days_is_between_1_and_28(tt, days):
    messages = errors_of(
        advertiser_id=tt.ADVERTISER_ID, event_set_id=tt.EVENT_SET_ID, max_event_age_days=days
    )
    assert messages["max_event_age_days"] == [
        "must be a whole number of days from 1 to 28 (TikTok attributes events up to 28 days old)."
    ]


def test_unknown_settings_are_refused(tt):
    messages = errors_of(
        advertiser_id=tt.ADVERTISER_ID, event_set_id=tt.EVENT_SET_ID, pixel_id="123"
    )
    assert "pixel_id" in messages


def test_error_messages_never_repeat_the_value_given(tt):
    marker = "Q7zzMARKERzzQ7"
    with pytest.raises(ValidationError) as caught:
        load(
            advertiser_id=marker,
            event_set_id=marker.lower(),
            fixed_event_name=marker,
            default_currency=marker,
            default_phone_region=marker,
            test_event_code=marker * 9,
            api_base_url=f"ftp://{marker}",
        )
    assert marker.lower() not in str(caught.value.messages).lower()


def test_every_setting_has_a_description_for_the_json_schema():
    for name, field in TikTokSettingsSchema._declared_fields.items():
        assert field.metadata.get("description"), name
    for name, field in TikTokCredentialType.schema._declared_fields.items():
        assert field.metadata.get("description"), name


# -- credential type ------------------------------------------------------------------


def load_credential(**data):
    return TikTokCredentialType.schema().load(data)


def test_credential_type_names_and_secret_fields():
    assert TikTokCredentialType.name == "tiktok-offline-events"
    assert TikTokCredentialType.title == "TikTok Ads Events"
    assert sorted(TikTokCredentialType.secret_fields()) == ["app_secret", "refresh_token"]
    assert TikTokCredentialType.schema._declared_fields["app_id"].metadata.get("secret") is None


def test_a_refresh_token_alone_is_a_complete_credential(tt):
    assert load_credential(refresh_token=tt.LONG_TERM_TOKEN) == {
        "refresh_token": tt.LONG_TERM_TOKEN,
        "app_id": None,
        "app_secret": None,
        "api_base_url": None,
    }


def test_the_credentials_api_base_url_is_https_except_on_loopback(tt):
    loaded = load_credential(refresh_token="t", api_base_url="http://127.0.0.1:8765/")
    assert loaded["api_base_url"] == "http://127.0.0.1:8765"
    with pytest.raises(ValidationError) as caught:
        load_credential(refresh_token="t", api_base_url="http://business-api.tiktok.com")
    assert caught.value.messages["api_base_url"][0].startswith("must be an https:// URL")


def test_the_refresh_token_is_required_and_not_empty():
    with pytest.raises(ValidationError) as caught:
        load_credential()
    assert "refresh_token" in caught.value.messages
    with pytest.raises(ValidationError) as caught:
        load_credential(refresh_token="")
    assert caught.value.messages == {"refresh_token": ["must not be empty."]}


@pytest.mark.parametrize(
    "given, missing",
    [
        ({"app_id": "7000000000000000001"}, "app_secret"),
        ({"app_secret": "app-secret-9z8y7x6w5v"}, "app_id"),
    ],
)
def test_app_id_and_app_secret_go_together(tt, given, missing):
    with pytest.raises(ValidationError) as caught:
        load_credential(refresh_token=tt.REFRESH_TOKEN, **given)
    message = caught.value.messages[missing][0]
    assert "app_id" in message and "app_secret" in message
    assert tt.APP_SECRET not in str(caught.value.messages)


def test_app_credentials_together_are_accepted(tt):
    loaded = load_credential(
        refresh_token=tt.REFRESH_TOKEN, app_id=tt.APP_ID, app_secret=tt.APP_SECRET
    )
    assert loaded["app_id"] == tt.APP_ID
