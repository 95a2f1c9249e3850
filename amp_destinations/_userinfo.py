"""URLs that carry a user name or password (``https://user:password@host``).

Settings are kept in the open: in the database, in ``destinations show``, in messages
that name the URL, in httpx's request log. So a setting never holds user info:
``SecureUrl`` refuses it, and ``load_with`` refuses an http(s) URL with user info in any
other non-secret field. Records an older release stored are shown with the user info
replaced, never as they are.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["USERINFO_RULE", "carries_userinfo", "redact_userinfo"]

USERINFO_RULE = (
    "must not carry a user name or password: secrets belong in a credential's "
    "secret fields, never in a setting."
)

# Up to the last "@" before the path, as urlsplit reads the authority.
_USERINFO = re.compile(r"(?i)\b(https?://)[^\s/?#]*@")


def carries_userinfo(value: Any) -> bool:
    if isinstance(value, str):
        return _USERINFO.search(value) is not None
    if isinstance(value, dict):
        return any(map(carries_userinfo, value.values()))
    if isinstance(value, (list, tuple)):
        return any(map(carries_userinfo, value))
    return False


def redact_userinfo(value: Any) -> Any:
    """``value`` with every URL's user info replaced by ``[redacted]``, in nested
    dicts and lists too."""
    if isinstance(value, str):
        return _USERINFO.sub(r"\1[redacted]@", value)
    if isinstance(value, dict):
        return {key: redact_userinfo(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_userinfo(item) for item in value]
    return value
