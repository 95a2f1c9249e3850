"""TikTok's advertiser authorization: the provider's part of the OAuth 2.0 flow that
``amp-dest credentials authorize`` runs.

An ad account's Operator or Admin approves the app at ``/portal/auth`` on the API's
host (TikTok's, or the credential's ``api_base_url``, so that the emulator serves it);
TikTok sends the browser back with ``auth_code`` and ``state``; ``exchange`` trades the
code at ``/oauth2/access_token/`` for a long-term token (no refresh token comes with
it), the ad accounts it may act for and the scopes granted.

What is stored: the token as the ``refresh_token`` secret (the product's name for it),
``app_id`` and the ``app_secret`` secret, and as facts ``advertiser_ids``, ``scopes``
and ``long_term_token`` (so that no refresh exchange is tried for it). A grant without
the scope to report events is refused, since the credential could not send; any other
missing scope is a warning saying what will not work.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import httpx

from amp_destinations import Authorization, AuthorizationFlow, AuthorizationRefused

from ._client import TRANSIENT_KINDS, Answer, Kind, read_answer, redact
from ._constants import (
    ACCESS_TOKEN_PATH,
    APP_NOT_MATCHED,
    AUTH_CODE_EXPIRED,
    AUTH_CODE_INVALID,
    DEFAULT_API_BASE_URL,
    LONG_TERM_FACT,
    PORTAL_AUTH_PATH,
    REQUIRED_SCOPES,
    SCOPE_EVENTS,
)

__all__ = ["TikTokAuthorization", "api_base_url"]

_DEVELOPER_PORTAL = "TikTok's developer portal (My Apps)"
# What an operator loses without each scope the destination does not strictly need.
_WITHOUT = {
    "offline_event_set.manage": "the connection test cannot read offline event sets and "
    "saving cannot apply auto tracking",
    "ad_account.read": "the advertisers cannot be listed with their names",
}


def api_base_url(values: Mapping[str, Any]) -> str:
    """Where the credential's authorization and API live: its ``api_base_url``, else TikTok."""
    return (values.get("api_base_url") or DEFAULT_API_BASE_URL).rstrip("/")


class TikTokAuthorization(AuthorizationFlow):
    app_fields = ("app_id", "app_secret")
    code_parameter = "auth_code"
    # The app registers the loopback URL as an advertiser redirect URL; see the README.
    loopback_redirect = True

    def authorization_url(self, values: Mapping[str, Any], redirect_uri: str, state: str) -> str:
        query = urlencode(
            {"app_id": values["app_id"], "state": state, "redirect_uri": redirect_uri}
        )
        return f"{api_base_url(values)}{PORTAL_AUTH_PATH}?{query}"

    def exchange(
        self,
        code: str,
        values: Mapping[str, Any],
        redirect_uri: str,
        session: httpx.Client,
    ) -> Authorization:
        base_url = api_base_url(values)
        app_id, app_secret = values["app_id"], values["app_secret"]
        payload = {"app_id": app_id, "secret": app_secret, "auth_code": code}
        try:
            response = session.post(base_url + ACCESS_TOKEN_PATH, json=payload)
        except httpx.HTTPError as exc:
            raise AuthorizationRefused(
                f"could not reach {base_url} to exchange the authorization code "
                f"({type(exc).__name__}): check the network and api_base_url, then authorize "
                "again"
            ) from None
        answer = read_answer(response, lambda text: redact(text, (app_secret, code)))
        if answer.kind is not Kind.OK:
            raise AuthorizationRefused(_refusal(answer, app_id, base_url))
        token = answer.data.get("access_token")
        if not isinstance(token, str) or not token:
            raise AuthorizationRefused(
                f"TikTok's answer to the code exchange holds no access token: "
                f"{answer.describe()}; authorize again, and report it with the request id "
                "if it persists"
            )
        scopes = _strings(answer.data.get("scope"))
        missing = _missing_scopes(scopes)
        if SCOPE_EVENTS in missing:
            raise AuthorizationRefused(
                f"TikTok did not grant app {app_id} the scope to report conversion events "
                f"({SCOPE_EVENTS}), so the credential could not send: add it to the app in "
                f"{_DEVELOPER_PORTAL}, then authorize again"
            )
        return Authorization(
            secrets={"refresh_token": token, "app_secret": app_secret},
            fields={"app_id": app_id},
            facts={
                "advertiser_ids": [
                    advertiser_id
                    for advertiser_id in _strings(answer.data.get("advertiser_ids"))
                    if advertiser_id.isdigit()
                ],
                "scopes": scopes,
                LONG_TERM_FACT: True,
            },
            warnings=_scope_warnings(app_id, scopes, missing),
        )


def _strings(value: Any) -> list[str]:
    """A list TikTok answered, as strings (ids may come as numbers)."""
    if not isinstance(value, list):
        return []
    return [str(item) for item in value if isinstance(item, (str, int)) and str(item)]


def _missing_scopes(scopes: list[str]) -> list[str]:
    """The scopes the destination needs and TikTok did not grant; none when TikTok
    named the scopes in a way this plugin cannot read (numeric ids), since then
    nothing can be said."""
    if not any(scope in REQUIRED_SCOPES for scope in scopes):
        return []
    return [scope for scope in REQUIRED_SCOPES if scope not in scopes]


def _scope_warnings(app_id: str, scopes: list[str], missing: list[str]) -> list[str]:
    if not any(scope in REQUIRED_SCOPES for scope in scopes):
        reported = ", ".join(scopes) if scopes else "none"
        needed = "; ".join(REQUIRED_SCOPES.values())
        return [
            f"TikTok reported the scopes granted as {reported}, which cannot be checked "
            f"here: make sure app {app_id} has the permissions to {needed} in "
            f"{_DEVELOPER_PORTAL}"
        ]
    return [
        f"TikTok did not grant the scope {scope} ({REQUIRED_SCOPES[scope]}), so "
        f"{_WITHOUT[scope]}: add it to app {app_id} in {_DEVELOPER_PORTAL}, then "
        "authorize again"
        for scope in missing
    ]


def _refusal(answer: Answer, app_id: str, base_url: str) -> str:
    what = answer.describe()
    if answer.code == AUTH_CODE_EXPIRED:
        return (
            f"the authorization code expired before it was exchanged: {what}; codes are "
            "valid for one hour: authorize again"
        )
    if answer.code == AUTH_CODE_INVALID:
        return (
            f"TikTok refused the authorization code, used already or not valid: {what}; "
            "each code works once: authorize again"
        )
    if answer.code == APP_NOT_MATCHED:
        return (
            f"TikTok refused app_id {app_id} with this app_secret: {what}; copy both from "
            f"the app in {_DEVELOPER_PORTAL}, then authorize again"
        )
    if answer.kind in TRANSIENT_KINDS:
        return (
            f"TikTok could not exchange the authorization code right now: {what}; "
            "authorize again in a few minutes"
        )
    if answer.kind is Kind.MALFORMED:
        return (
            f"{base_url} did not answer like TikTok's API: {what}; check api_base_url, "
            f"normally {DEFAULT_API_BASE_URL}"
        )
    return (
        f"TikTok refused the authorization code exchange for app {app_id}: {what}; check "
        f"the app's status in {_DEVELOPER_PORTAL}, then authorize again"
    )
