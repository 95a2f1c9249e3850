"""Talking to TikTok: reading its answer envelope, sorting answers into kinds, and
supplying the Access-Token (refresh exchange, caching, rotation, long-term fallback).

TikTok answers HTTP 200 even for errors; the body's ``code`` decides. Every message
built here passes through ``AccessTokens.redact`` so that no token can leak into an
outcome, a check or an exception, even if TikTok were to echo one back.
"""

from __future__ import annotations

import enum
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from amp_destinations import (
    AmpDestError,
    Credential,
    FailureType,
    ItemRejection,
    retry_after_seconds,
)

from . import _constants as tt

__all__ = [
    "Kind",
    "Answer",
    "read_answer",
    "event_rejections",
    "AccessTokens",
    "TokenError",
    "TikTokClient",
    "reauthorize_hint",
    "redact",
]

# An access token is renewed this long before TikTok says it expires, so that a
# request never leaves with a token that dies in flight.
REFRESH_MARGIN_SECONDS = 300
_MESSAGE_LIMIT = 300
_REDACTED = "[redacted]"


class Kind(enum.Enum):
    """What an answer means for the caller, from the answer table in the spec."""

    OK = "ok"
    PARTIAL = "partial"
    INVALID_PARAMETER = "invalid parameter"
    PERMISSION = "permission"
    ADVERTISER_NOT_MATCHED = "advertiser not matched"
    TOKEN_INVALID = "token invalid"
    TOKEN_NOT_REFRESHABLE = "token not refreshable"
    RATE_LIMITED = "rate limited"
    DUPLICATE = "duplicate request"
    WRITE_CONFLICT = "write conflict"
    SERVER_ERROR = "server error"
    UNKNOWN_SERVER = "unknown server code"  # 5xxxx and 6xxxx we do not know: retry
    UNKNOWN = "unknown code"  # any other code we do not know: an answer nobody expected
    MALFORMED = "not TikTok's envelope"


TRANSIENT_KINDS = frozenset(
    {Kind.RATE_LIMITED, Kind.WRITE_CONFLICT, Kind.SERVER_ERROR, Kind.UNKNOWN_SERVER}
)

_BY_CODE: dict[int, Kind] = {
    tt.OK: Kind.OK,
    tt.PARTIAL_SUCCESS: Kind.PARTIAL,
    tt.DUPLICATE_REQUEST: Kind.DUPLICATE,
    tt.WRITE_CONFLICT: Kind.WRITE_CONFLICT,
    tt.TOKEN_NOT_REFRESHABLE: Kind.TOKEN_NOT_REFRESHABLE,
}
for _codes, _kind in (
    (tt.INVALID_PARAMETER, Kind.INVALID_PARAMETER),
    (tt.PERMISSION - tt.ADVERTISER_NOT_MATCHED, Kind.PERMISSION),
    (tt.ADVERTISER_NOT_MATCHED, Kind.ADVERTISER_NOT_MATCHED),
    (tt.TOKEN_INVALID, Kind.TOKEN_INVALID),
    (tt.RATE_LIMITED, Kind.RATE_LIMITED),
    (tt.SERVER_ERROR, Kind.SERVER_ERROR),
):
    _BY_CODE.update(dict.fromkeys(_codes, _kind))


@dataclass(frozen=True)
class Answer:
    """One answer from TikTok, already sorted into a kind."""

    kind: Kind
    status: int
    code: int | None = None
    message: str = ""
    request_id: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)
    retry_after: float | None = None

    def describe(self) -> str:
        """``<TikTok's message> (code 40002, request id R)``, the HTTP status for a
        missing code and the code alone for a missing message. Messages put it after a
        colon, never in parentheses, so that one never nests in another."""
        status = f"HTTP {self.status}" if self.code is None else f"code {self.code}"
        details = f"{status}, request id {self.request_id}" if self.request_id else status
        message = self.message.rstrip(". ")
        return f"{message} ({details})" if message else details


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every secret in it (of at least four characters) replaced."""
    for secret in secrets:
        if secret and len(secret) >= 4 and secret in text:
            text = text.replace(secret, _REDACTED)
    return text


def _one_line(text: Any) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= _MESSAGE_LIMIT else flat[: _MESSAGE_LIMIT - 3] + "..."


def _kind_of(status: int, code: int | None) -> Kind:
    if status == 429:
        return Kind.RATE_LIMITED
    if status >= 500:
        return Kind.SERVER_ERROR
    if code is None:
        return Kind.MALFORMED
    kind = _BY_CODE.get(code)
    if kind is not None:
        return kind
    return Kind.UNKNOWN_SERVER if 50000 <= code < 70000 else Kind.UNKNOWN


def read_answer(response: httpx.Response, redact: Callable[[str], str] = str) -> Answer:
    """Parse TikTok's ``{"code", "message", "request_id", "data"}`` envelope."""
    retry_after = retry_after_seconds(response.headers.get("Retry-After"))
    code = None
    message = request_id = ""
    data: Mapping[str, Any] = {}
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        body = None
    if isinstance(body, dict):
        raw_code = body.get("code")
        if isinstance(raw_code, int) and not isinstance(raw_code, bool):
            code = raw_code
        message = redact(_one_line(body.get("message") or ""))
        request_id = _one_line(body.get("request_id") or "")
        if isinstance(body.get("data"), dict):
            data = body["data"]
    return Answer(
        kind=_kind_of(response.status_code, code),
        status=response.status_code,
        code=code,
        message=message,
        request_id=request_id,
        data=data,
        retry_after=retry_after,
    )


def event_rejections(
    answer: Answer, count: int, redact: Callable[[str], str] = str
) -> list[ItemRejection] | None:
    """The events a partly successful answer (20001) names as refused, or None.

    TikTok documents no per-event list; the shape read here is ``data.errors``:
    ``[{"index": <0-based position in the request's data>, "code": ..., "message": ...}]``.
    Anything else (missing, malformed, an index out of range) gives None, and the
    whole batch counts as delivered with TikTok's message kept as a note.
    """
    errors = answer.data.get("errors")
    if not isinstance(errors, list) or not errors:
        return None
    rejections = []
    for entry in errors:
        index = entry.get("index") if isinstance(entry, dict) else None
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < count:
            return None
        code = entry.get("code")
        detail = redact(_one_line(entry.get("message") or "no reason given"))
        prefix = (
            f"TikTok refused this event (code {code})"
            if code is not None
            else ("TikTok refused this event")
        )
        rejections.append(ItemRejection(index, "tiktok.event_rejected", f"{prefix}: {detail}"))
    return rejections


class TokenError(Exception):
    """The Access-Token could not be obtained. ``str()`` is one line without secrets."""

    def __init__(
        self,
        message: str,
        failure: FailureType,
        hint: str = "",
        retry_after: float | None = None,
        throttled: bool = False,
    ):
        super().__init__(message)
        self.failure = failure
        self.hint = hint
        self.retry_after = retry_after
        self.throttled = throttled


class AccessTokens:
    """Supplies the Access-Token header for one destination, safely across threads.

    Without app credentials, or once TikTok said 40107 (a long-term token), the
    refresh token is the access token. Otherwise it is exchanged at
    ``/oauth2/refresh_token/``; the access token is cached until shortly before it
    expires, and a rotated refresh token is handed to the host through
    ``Credential.rotate`` so that it is persisted.
    """

    def __init__(self, credential: Credential, base_url: str):
        self._credential = credential
        self._url = base_url + tt.REFRESH_TOKEN_PATH
        self._lock = threading.Lock()
        self._cached: tuple[str, float] | None = None  # (access token, renew after)
        # An authorized credential's token is long-term (the authorization says so), so
        # trying a refresh exchange for it would only be answered 40107.
        self._long_term = credential.facts.get(tt.LONG_TERM_FACT) is True or not (
            credential.get("app_id") and credential.get("app_secret")
        )

    @property
    def refresh_token(self) -> str:
        return self._credential["refresh_token"]

    @property
    def can_refresh(self) -> bool:
        return not self._long_term

    def redact(self, text: str) -> str:
        secrets = [self._credential.get("refresh_token"), self._credential.get("app_secret")]
        cached = self._cached
        if cached:
            secrets.append(cached[0])
        return redact(text, secrets)

    def current(self, session: httpx.Client) -> str:
        """The token to send now: cached, freshly exchanged, or the long-term one."""
        if self._long_term:
            return self.refresh_token
        cached = self._cached
        if cached and time.monotonic() < cached[1]:
            return cached[0]
        with self._lock:
            cached = self._cached
            if cached and time.monotonic() < cached[1]:
                return cached[0]
            if self._long_term:
                return self.refresh_token
            return self._exchange(session)

    def renew(self, session: httpx.Client, rejected: str) -> str:
        """A fresh token after TikTok rejected ``rejected``. When another thread has
        already renewed it meanwhile, its token is used rather than exchanging again."""
        with self._lock:
            cached = self._cached
            if self._long_term:
                return self.refresh_token
            if cached and cached[0] != rejected:
                return cached[0]
            self._cached = None
            return self._exchange(session)

    def use_long_term(self) -> None:
        with self._lock:
            self._long_term = True
            self._cached = None

    def _exchange(self, session: httpx.Client) -> str:
        credential = self._credential
        payload = {
            "app_id": credential["app_id"],
            "secret": credential["app_secret"],
            "refresh_token": credential["refresh_token"],
            "grant_type": "refresh_token",
        }
        answer = read_answer(session.post(self._url, json=payload), self.redact)
        if answer.kind is Kind.TOKEN_NOT_REFRESHABLE:
            self._long_term = True
            return self.refresh_token
        if answer.kind is Kind.OK:
            access_token = answer.data.get("access_token")
            if isinstance(access_token, str) and access_token:
                self._cached = (access_token, self._renew_after(answer.data))
                self._store_rotated(answer.data.get("refresh_token"))
                return access_token
        raise self._exchange_error(answer)

    def _renew_after(self, data: Mapping[str, Any]) -> float:
        expires_in = data.get("access_token_expire_in")
        if isinstance(expires_in, bool) or not isinstance(expires_in, (int, float)):
            return math.inf  # until TikTok refuses it, which renews it once
        return time.monotonic() + expires_in - REFRESH_MARGIN_SECONDS

    def _store_rotated(self, new_refresh_token: Any) -> None:
        if not isinstance(new_refresh_token, str) or not new_refresh_token:
            return
        if new_refresh_token == self._credential["refresh_token"]:
            return
        try:
            self._credential.rotate({"refresh_token": new_refresh_token})
        except AmpDestError as exc:
            raise TokenError(
                f"TikTok rotated the refresh token of credential {self._credential.name} "
                f"but it could not be stored: {self.redact(str(exc))}",
                FailureType.SYSTEM,
                hint="fix the secret store, then " + reauthorize_hint(self._credential.name),
            ) from None

    def _exchange_error(self, answer: Answer) -> TokenError:
        what = answer.describe()
        name = self._credential.name
        if answer.kind in TRANSIENT_KINDS:
            return TokenError(
                f"TikTok could not exchange the refresh token right now: {what}",
                FailureType.TRANSIENT,
                hint="try again in a minute.",
                retry_after=answer.retry_after,
                throttled=answer.kind is Kind.RATE_LIMITED,
            )
        if answer.kind is Kind.TOKEN_INVALID:
            return TokenError(
                f"TikTok refused the refresh token of credential {name}: {what}",
                FailureType.AUTH,
                hint=reauthorize_hint(name),
            )
        if answer.kind in (Kind.MALFORMED, Kind.OK):
            return TokenError(
                f"TikTok's answer to the refresh token exchange is not what it documents: {what}",
                FailureType.SYSTEM,
                hint="check api_base_url and any proxy in between.",
            )
        return TokenError(
            f"TikTok refused to exchange the refresh token of credential {name}: {what}",
            FailureType.AUTH,
            hint=f"check credential {name}'s app_id and app_secret against the app in "
            "TikTok's developer portal, or " + reauthorize_hint(name),
        )


def reauthorize_hint(credential_name: str) -> str:
    # In the API's terms: the CLI adds its command for a refused credential (auth).
    return (
        f"re-authorize credential {credential_name} in TikTok with an account that holds "
        "the Ad Account Operator or Admin role on the ad account."
    )


class TikTokClient:
    """Authorized calls to one TikTok API base URL. A call whose token TikTok refuses
    is renewed and sent again once; transport errors are left to the caller."""

    def __init__(self, base_url: str, credential: Credential):
        self.base_url = base_url.rstrip("/")
        self.tokens = AccessTokens(credential, self.base_url)

    def call(
        self,
        session: httpx.Client,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        content: bytes | None = None,
    ) -> Answer:
        token = self.tokens.current(session)
        answer = self._send(session, method, path, token, params, json, content)
        if answer.kind is Kind.TOKEN_INVALID and self.tokens.can_refresh:
            token = self.tokens.renew(session, rejected=token)
            answer = self._send(session, method, path, token, params, json, content)
        elif answer.kind is Kind.TOKEN_NOT_REFRESHABLE and token != self.tokens.refresh_token:
            self.tokens.use_long_term()
            answer = self._send(
                session, method, path, self.tokens.refresh_token, params, json, content
            )
        return answer

    def _send(self, session, method, path, token, params, json, content) -> Answer:
        headers = {"Access-Token": token}
        if json is not None or content is not None:
            headers["Content-Type"] = "application/json"
        response = session.request(
            method, self.base_url + path, params=params, json=json, content=content, headers=headers
        )
        return read_answer(response, self.tokens.redact)
