"""Authorization codes: what the authorization page issues and the code exchange
redeems. Each is valid for an hour and once, on a clock that tests can move forward
(``advance``) instead of waiting."""

from __future__ import annotations

import enum
import secrets
import threading
import time
from dataclasses import dataclass

from .._constants import AUTH_CODE_LIFETIME_SECONDS


@dataclass(frozen=True)
class Grant:
    """What a person approved: which app may act for which ad accounts, with which
    role and scopes."""

    app_id: str
    advertiser_ids: frozenset[str]
    role: str
    scopes: tuple[str, ...]


class Redeemed(enum.Enum):
    OK = "ok"
    UNKNOWN = "unknown"  # never issued, or issued to another app
    USED = "used"
    EXPIRED = "expired"


@dataclass
class _Code:
    grant: Grant
    expires_at: float
    used: bool = False


class AuthCodes:
    """Thread-safe. Used and expired codes are kept, so that the exchange can say
    which of the two a refused code is."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._codes: dict[str, _Code] = {}
        self._offset = 0.0

    def now(self) -> float:
        return time.time() + self._offset

    def advance(self, seconds: float) -> float:
        """Move the codes' clock forward; returns how far it is ahead of real time."""
        with self._lock:
            self._offset += seconds
            return self._offset

    def issue(self, grant: Grant) -> str:
        code = secrets.token_hex(20)
        with self._lock:
            self._codes[code] = _Code(grant, self.now() + AUTH_CODE_LIFETIME_SECONDS)
        return code

    def redeem(self, code: str, app_id: str) -> tuple[Redeemed, Grant | None]:
        with self._lock:
            found = self._codes.get(code)
            if found is None or found.grant.app_id != app_id:
                return Redeemed.UNKNOWN, None
            if found.used:
                return Redeemed.USED, None
            if self.now() >= found.expires_at:
                return Redeemed.EXPIRED, None
            found.used = True
            return Redeemed.OK, found.grant
