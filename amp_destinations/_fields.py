"""Marshmallow fields that plugin schemas share: secrets and URLs that must be encrypted."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from marshmallow import ValidationError, fields

from ._public import public
from ._userinfo import USERINFO_RULE

__all__ = ["Secret", "SecureUrl", "is_loopback_host"]


def Secret(**kwargs: Any) -> fields.String:
    """A secret string: kept in the keyring, never dumped, ``writeOnly`` in JSON Schema."""
    metadata = {"secret": True, **kwargs.pop("metadata", {})}
    return fields.String(load_only=True, metadata=metadata, **kwargs)


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@public
class SecureUrl(fields.String):
    """An ``https`` URL, or plain ``http`` only for a loopback host, so that tokens
    never travel unencrypted over a network; never with a user name or password in it,
    because settings are stored and shown in the open. No message quotes the URL."""

    default_error_messages = {
        "scheme": "must be an https:// URL (http:// is allowed only for 127.0.0.1 or localhost).",
        "host": "must be a URL with a host name.",
        "userinfo": USERINFO_RULE,
    }

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip().rstrip("/")
        try:
            parts = urlsplit(text)
        except ValueError as exc:
            raise ValidationError(self.error_messages["host"]) from exc
        if "@" in parts.netloc:
            raise self.make_error("userinfo")
        if not parts.hostname:
            raise self.make_error("host")
        if parts.scheme == "https":
            return text
        if parts.scheme == "http" and is_loopback_host(parts.hostname):
            return text
        raise self.make_error("scheme")
