"""What a failed call to TikTok means to an operator: the connection test's check it
fails, one line saying what happened, and what to do. Shared by the connection test,
saving, sending and listing choices, so that each says the same thing."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from amp_destinations import FailureType

from ._client import TRANSIENT_KINDS, Answer, Kind, TokenError, reauthorize_hint
from ._constants import DEFAULT_API_BASE_URL

__all__ = [
    "ADVERTISER",
    "ADVERTISER_HINT",
    "API",
    "AUTHORIZED",
    "AUTO_TRACKING",
    "CRM_EVENT_SET_HINT",
    "EVENT_SET",
    "EVENT_SET_HINT",
    "NAME_MATCHES",
    "PIXEL",
    "PIXEL_HINT",
    "TOKEN",
    "Problem",
    "Target",
    "answer_problem",
    "token_problem",
    "transport_problem",
]

# The connection test's checks, in order.
AUTHORIZED = "advertiser authorized"  # only for a credential authorized here
API = "api reachable"
TOKEN = "token accepted"
ADVERTISER = "advertiser reachable"
EVENT_SET = "event set found"
PIXEL = "pixel found"
NAME_MATCHES = "name matches"
AUTO_TRACKING = "auto tracking state"

ROLE_ADVICE = (
    "the account that authorized the credential needs the Ad Account Operator or Admin "
    "role on this ad account (Analyst cannot send); ask an admin in TikTok Business "
    "Center, then re-authorize"
)
ADVERTISER_HINT = (
    "check advertiser_id: TikTok Ads Manager shows the ad account id (about 19 digits) "
    "in the account menu at the top right"
)
EVENT_SET_HINT = (
    "check event_set_id: in TikTok Ads Manager open Assets > Events > Offline > Manage; "
    "each event set has its own card and its id (about 19 digits) is under its name"
)
PIXEL_HINT = (
    "check event_set_id: for web events it is the pixel code (about 20 upper-case letters "
    "and digits) shown under the pixel's name in Assets > Events > Web Events > Manage"
)
CRM_EVENT_SET_HINT = (
    "check event_set_id: in TikTok Events Manager (Tools > Events) open the CRM event set; "
    "its Event Set ID (about 19 digits) is at the top left"
)
TRANSIENT_HINT = "try again in a few minutes; nothing was changed."


@dataclass(frozen=True)
class Problem:
    """Why a call failed: the check it fails, what happened and what to do."""

    check: str
    message: str
    hint: str
    failure: FailureType

    def one_line(self) -> str:
        return f"{self.message}; {self.hint.rstrip('.')}"


@dataclass(frozen=True)
class Target:
    """What the calls were about, for the messages: where, with which credential, for
    which advertiser (None when listing the advertisers), the connection test's check
    for its kind of event set and the hint saying where that id is shown."""

    base_url: str
    credential_name: str
    advertiser_id: str | None = None
    found_check: str = EVENT_SET
    event_set_hint: str = EVENT_SET_HINT


def answer_problem(answer: Answer, target: Target) -> Problem:
    """What a failed answer means to an operator, for checks, saves, runs and choices."""
    what = answer.describe()
    kind = answer.kind
    advertiser = f"advertiser {target.advertiser_id}" if target.advertiser_id else "its advertisers"
    if kind is Kind.RATE_LIMITED:
        return Problem(
            API, f"TikTok is rate-limiting this app: {what}", TRANSIENT_HINT, FailureType.TRANSIENT
        )
    if kind in TRANSIENT_KINDS:
        return Problem(
            API, f"TikTok is busy or down: {what}", TRANSIENT_HINT, FailureType.TRANSIENT
        )
    if kind is Kind.MALFORMED:
        return Problem(
            API,
            f"{target.base_url} did not answer like TikTok's API: {what}",
            f"check api_base_url (normally {DEFAULT_API_BASE_URL}) and any proxy in between.",
            FailureType.SYSTEM,
        )
    if kind in (Kind.TOKEN_INVALID, Kind.TOKEN_NOT_REFRESHABLE):
        name = target.credential_name
        return Problem(
            TOKEN,
            f"TikTok refused the token of credential {name}: {what}",
            reauthorize_hint(name),
            FailureType.AUTH,
        )
    if kind is Kind.PERMISSION:
        return Problem(
            ADVERTISER,
            f"the credential may not act for {advertiser}: {what}",
            f"{ROLE_ADVICE}; if the role is right, {ADVERTISER_HINT}.",
            FailureType.AUTH,
        )
    if kind is Kind.ADVERTISER_NOT_MATCHED:
        return Problem(
            ADVERTISER,
            f"TikTok does not match {advertiser} to this credential: {what}",
            f"{ADVERTISER_HINT}; if it is right, {ROLE_ADVICE}.",
            FailureType.CONFIG,
        )
    if kind is Kind.INVALID_PARAMETER:
        # TikTok's message names the parameter; point at the setting behind it.
        if any(word in answer.message.lower() for word in ("event_set", "pixel")):
            return Problem(
                target.found_check,
                f"TikTok refused event_set_id: {what}",
                target.event_set_hint + ".",
                FailureType.CONFIG,
            )
        return Problem(
            ADVERTISER,
            f"TikTok refused the request's parameters: {what}",
            f"{ADVERTISER_HINT}; and {target.event_set_hint}.",
            FailureType.CONFIG,
        )
    return Problem(
        API,
        f"TikTok gave an answer this plugin does not expect: {what}",
        "report it with the request id; nothing was changed.",
        FailureType.SYSTEM,
    )


def token_problem(exc: TokenError) -> Problem:
    check = TOKEN if exc.failure is FailureType.AUTH else API
    return Problem(check, str(exc), exc.hint, exc.failure)


def transport_problem(exc: httpx.HTTPError, base_url: str) -> Problem:
    if isinstance(exc, httpx.TimeoutException):
        reason = "TikTok did not answer in time"
    else:
        reason = f"could not reach {base_url} ({type(exc).__name__})"
    failure = FailureType.TRANSIENT if isinstance(exc, httpx.TransportError) else FailureType.SYSTEM
    return Problem(
        API, reason, "check the network, any proxy and api_base_url, then try again.", failure
    )
