"""Fields plugins share: secrets are write-only, URLs must be encrypted off loopback."""

from __future__ import annotations

import pytest
from marshmallow import Schema, ValidationError

import amp_destinations as amp


class UrlSchema(Schema):
    url = amp.SecureUrl(required=True)
    token = amp.Secret()


@pytest.mark.parametrize(
    "url",
    ["https://example.com/in", "http://127.0.0.1:8080", "http://localhost/x", "http://[::1]:9000/"],
)
def test_secure_urls_are_accepted(url):
    assert UrlSchema().load({"url": url})["url"] == url.rstrip("/")


@pytest.mark.parametrize("url", ["http://example.com/in", "http://10.0.0.5/", "ftp://127.0.0.1"])
def test_plain_http_off_loopback_is_refused(url):
    with pytest.raises(ValidationError, match="must be an https:// URL"):
        UrlSchema().load({"url": url})


def test_secrets_are_loaded_but_never_dumped():
    loaded = UrlSchema().load({"url": "https://example.com", "token": "s3cret"})
    assert loaded["token"] == "s3cret"
    assert "token" not in UrlSchema().dump(loaded)
    assert UrlSchema._declared_fields["token"].metadata["secret"] is True


@pytest.mark.parametrize(
    "url",
    [
        "https://ops:pa55word@example.com/in",
        "https://pa55word@example.com",
        "https://:pa55word@example.com",
        "http://ops:pa55word@127.0.0.1:8080",
        "https://@example.com",
        "https://ops:pa55@word@example.com/x",
    ],
)
def test_user_info_is_refused_and_never_quoted(url):
    with pytest.raises(ValidationError) as caught:
        UrlSchema().load({"url": url})
    message = str(caught.value.messages)
    assert "must not carry a user name or password" in message and "credential" in message
    assert "pa55" not in message and "ops" not in message


def test_redaction_takes_the_user_info_up_to_the_last_at_sign():
    from amp_destinations._userinfo import carries_userinfo, redact_userinfo

    record = {
        "url": "https://ops:pa55@word@example.com/a@b",
        "n": 3,
        "urls": ["see http://u:p@127.0.0.1/x", "https://example.com/@me"],
    }
    assert redact_userinfo(record) == {
        "url": "https://[redacted]@example.com/a@b",
        "n": 3,
        "urls": ["see http://[redacted]@127.0.0.1/x", "https://example.com/@me"],
    }
    assert carries_userinfo(record) and not carries_userinfo("https://example.com/@me")
