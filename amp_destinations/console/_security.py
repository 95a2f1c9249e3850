"""Who may use the console, and what a page may load.

The console serves one operator on this machine. It prints its address with a one-time
token (as Jupyter does); the first request that carries it gets a session cookie
(HttpOnly, SameSite=Strict) and is redirected to the same address without the token,
so the token leaves the address bar and the history and cannot be used again. Every
request then needs that cookie: pages, fragments, static files and downloads alike.

Every form post carries a CSRF token (a hidden field, or the ``X-CSRF-Token`` header
htmx sends), and a post whose Origin is another site is refused before that. A strict
Content-Security-Policy allows scripts, styles and requests from the console itself
only (htmx is vendored in ``static/``), no inline script or style, no frames; the
referrer is never sent, so no address of the console leaves it.

Uploads are bounded: a body larger than ``max_body`` bytes is refused with a 413, from
its Content-Length when it gives one, or as soon as that many bytes have arrived.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["Guard", "SECURITY_HEADERS", "checked_form", "csrf_token"]

COOKIE = "amp_console"
TOKEN_PARAMETER = "token"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}

_REFUSED_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>amp-dest console: access refused</title></head><body>
<h1>Access refused</h1>
<p>Open the address that <code>amp-dest console</code> printed when it started: it
carries a one-time token. A token works once; if this browser has no session, start the
console again for a new one.</p></body></html>"""


class _TooLarge(HTTPException):
    def __init__(self, limit: int):
        super().__init__(413, f"the upload is larger than the console's limit of {limit:,} bytes")


class Guard:
    """ASGI middleware: the token and the session cookie, the upload bound and the
    security headers on every answer."""

    def __init__(self, app: ASGIApp, *, token: str, max_body: int):
        self.app = app
        self._token: str | None = token
        self.session = secrets.token_urlsafe(32)
        self.csrf = secrets.token_urlsafe(32)
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _with_headers(send)
        scope.setdefault("state", {})["csrf"] = self.csrf
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        given = query.pop(TOKEN_PARAMETER, None)
        if self._has_session(scope):
            if given is not None:  # an old address pasted again: drop the token from it
                await _without_token(scope, query)(scope, receive, send)
                return
            if self._declared_length(scope) > self.max_body:
                refusal = _TooLarge(self.max_body)
                await HTMLResponse(refusal.detail, status_code=413)(scope, receive, send)
                return
            await self.app(scope, self._bounded(receive), send)
            return
        if given is not None and self._token and secrets.compare_digest(given, self._token):
            self._token = None  # one time
            response = _without_token(scope, query)
            response.set_cookie(COOKIE, self.session, httponly=True, samesite="strict", path="/")
            await response(scope, receive, send)
            return
        await HTMLResponse(_REFUSED_PAGE, status_code=403)(scope, receive, send)

    def _has_session(self, scope: Scope) -> bool:
        for name, value in scope.get("headers", ()):
            if name == b"cookie":
                cookie: SimpleCookie = SimpleCookie()
                try:
                    cookie.load(value.decode("latin-1"))
                except Exception:  # a malformed cookie header is no session
                    return False
                morsel = cookie.get(COOKIE)
                if morsel is not None and secrets.compare_digest(morsel.value, self.session):
                    return True
        return False

    @staticmethod
    def _declared_length(scope: Scope) -> int:
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit():
                return int(value)
        return 0

    def _bounded(self, receive: Receive) -> Receive:
        """``receive``, refusing the body once more than ``max_body`` bytes came (a
        chunked upload that declared no length)."""
        limit = self.max_body
        received = 0

        async def bounded() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise _TooLarge(limit)
            return message

        return bounded


def _with_headers(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [
                (name, value)
                for name, value in message.get("headers", [])
                if name.decode("latin-1").lower() not in SECURITY_HEADERS
            ]
            headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
            message = {**message, "headers": headers}
        await send(message)

    return sending


def _without_token(scope: Scope, query: Mapping[str, str]) -> Response:
    path = scope.get("path", "/")
    target = path + (f"?{urlencode(dict(query))}" if query else "")
    return RedirectResponse(target, status_code=303)


def csrf_token(request: Request) -> str:
    """The token every form of this console carries."""
    token: str = request.scope["state"]["csrf"]
    return token


async def checked_form(request: Request, **limits: Any) -> FormData:
    """The posted form, once it is known to come from a page of this console: its
    Origin (when the browser sends one) is this console and its CSRF token matches.
    Every handler of a post reads its form through this."""
    origin = request.headers.get("origin")
    if origin is not None and origin != "null":
        here = urlsplit(str(request.base_url))
        there = urlsplit(origin)
        if (there.scheme, there.netloc) != (here.scheme, here.netloc):
            raise HTTPException(403, "refused: the form was posted from another site")
    form = await request.form(**limits)
    given = request.headers.get(CSRF_HEADER) or form.get(CSRF_FIELD)
    if not isinstance(given, str) or not secrets.compare_digest(given, csrf_token(request)):
        await form.close()
        raise HTTPException(403, "refused: the form carries no valid CSRF token; reload the page")
    return form
