"""The advertiser authorization page, ``/portal/auth``, where the person signed in
(the seed's ``portal_user``) approves an app for their ad accounts.

``GET /portal/auth?app_id=A&state=S&redirect_uri=U`` shows the page: the app, the
scopes it asks for, the person's ad accounts (each with a checkbox) and Authorize and
Deny buttons. The buttons post the same parameters back as a form, and the answer is
a redirect (302) to ``U?auth_code=CODE&state=S``, or on Deny to
``U?error=access_denied&error_description=...&state=S`` (RFC 6749's shape: what
TikTok sends on a denial is not documented where we could read it). A script approves
with the same POST; without ``advertiser_id`` fields it approves every ad account.

A request naming an unknown app or a redirect URI the app did not register is not
redirected anywhere (that would make the page an open redirector): it gets a 400 page
saying which.
"""

from __future__ import annotations

import html
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from amp_destinations import is_loopback_host

from .._constants import PORTAL_AUTH_PATH
from ._grants import Grant
from ._messages import Request, Response, plain
from ._parsing import first
from ._seed import SeedApp
from ._state import EmulatorState

DENIED_DESCRIPTION = "The user denied the authorization."
_HTML = "text/html; charset=utf-8"


class _Refused(Exception):
    """A request the page answers with a 400 and this message."""


def handle_portal(state: EmulatorState, request: Request) -> Response:
    try:
        if request.method == "GET":
            return _page(state, parse_qs(request.query, keep_blank_values=True))
        if request.method == "POST":
            return _decide(state, request)
    except _Refused as refused:
        return _html(400, "Authorization failed", f"<p>{html.escape(str(refused))}</p>")
    return plain(405, "405 method not allowed", (("Allow", "GET, POST"),))


def _authorization_request(
    state: EmulatorState, params: dict[str, list[str]]
) -> tuple[SeedApp, str, str | None]:
    """The app, its redirect URI and the state a request names, or why they will not do."""
    app_id = first(params, "app_id")
    app = state.app(app_id) if app_id else None
    if app is None:
        raise _Refused("app_id: no app with this id.")
    redirect_uri = first(params, "redirect_uri")
    if not redirect_uri:
        raise _Refused("redirect_uri: required.")
    if not _registered(app, redirect_uri):
        raise _Refused("redirect_uri: not one of the app's advertiser redirect URLs.")
    return app, redirect_uri, first(params, "state")


def _registered(app: SeedApp, redirect_uri: str) -> bool:
    """Exactly a registered URL; or, for a registered loopback http URL without a port,
    the same URL at any port (RFC 8252, 7.3: a native app listens where it can)."""
    if redirect_uri in app.redirect_uris:
        return True
    given = urlsplit(redirect_uri)
    for registered in map(urlsplit, app.redirect_uris):
        if (
            registered.scheme == "http"
            and registered.port is None
            and is_loopback_host(registered.hostname)
            and given.port is not None
            and (given.scheme, given.hostname, given.path, given.query)
            == (registered.scheme, registered.hostname, registered.path, registered.query)
        ):
            return True
    return False


def _page(state: EmulatorState, params: dict[str, list[str]]) -> Response:
    app, redirect_uri, oauth_state = _authorization_request(state, params)
    user = state.portal_user
    hidden = {"app_id": app.app_id, "redirect_uri": redirect_uri}
    if oauth_state is not None:
        hidden["state"] = oauth_state
    inputs = "".join(
        f'<input type="hidden" name="{name}" value="{html.escape(value)}">'
        for name, value in hidden.items()
    )
    accounts = "".join(
        f'<li><label><input type="checkbox" name="advertiser_id" value="{advertiser_id}" '
        f"checked> {html.escape(state.advertiser_name(advertiser_id))} ({advertiser_id})"
        "</label></li>"
        for advertiser_id in sorted(user.advertiser_ids)
    )
    scopes = "".join(f"<li>{html.escape(scope)}</li>" for scope in app.scopes)
    body = (
        f"<p>Signed in as {html.escape(user.name)} ({user.role}).</p>"
        f"<p>App {html.escape(app.app_id)} asks for these permissions:</p><ul>{scopes}</ul>"
        f'<form method="post" action="{PORTAL_AUTH_PATH}">{inputs}'
        f"<p>Ad accounts to authorize:</p><ul>{accounts}</ul>"
        '<button type="submit" name="action" value="authorize">Authorize</button> '
        '<button type="submit" name="action" value="deny">Deny</button>'
        "</form>"
    )
    return _html(200, "Authorize an app - TikTok emulator", body)


def _decide(state: EmulatorState, request: Request) -> Response:
    content_type = request.headers.get("Content-Type", "")
    if content_type.split(";", 1)[0].strip().lower() != "application/x-www-form-urlencoded":
        raise _Refused("the form must be posted as application/x-www-form-urlencoded.")
    form = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
    app, redirect_uri, oauth_state = _authorization_request(state, form)
    action = first(form, "action")
    if action == "deny":
        answer = {"error": "access_denied", "error_description": DENIED_DESCRIPTION}
    elif action == "authorize":
        grant = Grant(app.app_id, _chosen_accounts(state, form), state.portal_user.role, app.scopes)
        answer = {"auth_code": state.auth_codes.issue(grant)}
    else:
        raise _Refused("action: must be authorize or deny.")
    if oauth_state is not None:
        answer["state"] = oauth_state
    location = _with_query(redirect_uri, answer)
    return Response(302, b"", content_type=_HTML, headers=(("Location", location),))


def _chosen_accounts(state: EmulatorState, form: dict[str, list[str]]) -> frozenset[str]:
    user = state.portal_user
    chosen = frozenset(form.get("advertiser_id", ())) or user.advertiser_ids
    if not chosen:
        raise _Refused(f"{user.name} has no ad account to authorize.")
    if not chosen <= user.advertiser_ids:
        raise _Refused(f"advertiser_id: not an ad account of {user.name}.")
    return chosen


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = "&".join(part for part in (parts.query, urlencode(params)) if part)
    return urlunsplit(parts._replace(query=query))


def _html(status: int, title: str, body: str) -> Response:
    page = (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}'
        f"</title></head><body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return Response(status, page.encode(), content_type=_HTML)
