"""Fields plugins share: secrets are write-only, URLs must be encrypted off loopback."""

from __future__ import annotations

import pytest
from marshmallow import Schema, ValidationError

import amp_destinations as amp


class UrlSchema(Schema):
    url = amp.SecureUrl(required=True)
    token = amp.Secret()


@pytest.mark.parametrize("url", ["https://example.com/in", "http://127.0.0.1:8080",
                                 "http://localhost/x", "http://[::1]:9000/"])
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
