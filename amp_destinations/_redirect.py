"""The generic middle of an OAuth 2.0 authorization-code flow: from the authorization
URL to the code, whatever the provider.

A one-time ``state`` goes into the URL and must come back with the redirect. The
redirect is received by a loopback listener (``_loopback``) when the flow accepts a
loopback redirect URI and a browser on this machine will follow it; otherwise the
person pastes the address the browser was sent to, or the bare code, and
``read_redirect`` hands it over. Either way there is a time limit, a provider's error
parameter means the person (or the provider) denied the authorization, and a state
that does not match refuses the redirect: it belongs to another attempt, or was forged.
"""

from __future__ import annotations

import secrets
import socket
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ._errors import AmpDestError, AuthorizationRefused, PluginError
from ._loopback import CALLBACK_PATH, RedirectListener, query_values, same_state

if TYPE_CHECKING:
    from ._authorize import AuthorizationFlow

__all__ = ["Browser", "receive_code", "code_from_pasted"]

# What shows the authorization page: True opens the system's browser, False nothing,
# a callable is called with the URL (a front end prints it first; a test follows it).
Browser = bool | Callable[[str], object]
# Longest provider text quoted from a denied redirect.
_QUOTED = 200
_LOOPBACK_NAMES = ("127.0.0.1", "localhost")
# Shorter values are not looked for in the URL: they would match by chance.
_SHORTEST_SECRET = 6


def receive_code(
    flow: AuthorizationFlow,
    values: Mapping[str, Any],
    *,
    redirect_uri: str | None,
    browser: Browser,
    read_redirect: Callable[[str], str] | None,
    time_limit: float,
    secret_values: tuple[str, ...] = (),
) -> tuple[str, str]:
    """Show the authorization page and wait for its answer: the code and the redirect
    URI it was issued for (the exchange must name the same one).

    Raises AuthorizationRefused (denied, a state that does not match, no code, no
    answer within ``time_limit`` seconds), PluginError (an authorization URL that
    holds a secret) and AmpDestError (nothing could receive the redirect)."""
    state = secrets.token_urlsafe(32)
    target = _listen_target(redirect_uri) if flow.loopback_redirect else None
    if target is not None and browser is not False:
        port, path = target
        try:
            listener = RedirectListener(
                state,
                path=path,
                port=port,
                state_parameter=flow.state_parameter,
                code_parameter=flow.code_parameter,
                error_parameter=flow.error_parameter,
            ).start()
        except OSError as exc:
            raise AmpDestError(
                f"cannot listen on 127.0.0.1:{port} for the redirect ({exc.strerror}): "
                "free that port, or name another redirect URI"
            ) from None
        try:
            uri = redirect_uri or listener.redirect_uri
            _show(browser, _url(flow, values, uri, state, secret_values))
            redirect = listener.wait(time_limit)
        finally:
            listener.close()
        if redirect is None:
            raise AuthorizationRefused(_too_late(time_limit))
        return _code(flow, redirect.values, redirect.state_matches), uri
    if read_redirect is None:
        raise AmpDestError(
            "the redirect cannot be received here (the flow takes no loopback redirect, "
            "the redirect URI is elsewhere, or no browser is used): give read_redirect"
        )
    uri = redirect_uri or _pasted_redirect_uri(flow)
    url = _url(flow, values, uri, state, secret_values)
    if browser is not False:
        _show(browser, url)
    started = time.monotonic()
    answer = read_redirect(url)
    if time.monotonic() - started > time_limit:  # the provider's code has expired too
        raise AuthorizationRefused(_too_late(time_limit))
    return code_from_pasted(answer, flow, state), uri


def code_from_pasted(text: str, flow: AuthorizationFlow, state: str) -> str:
    """The code in what the person pasted: the whole address the browser was sent to
    (its state checked), or the bare code (nothing to check it against)."""
    text = (text or "").strip()
    if not text:
        raise AuthorizationRefused(
            "nothing was pasted: the address the browser was sent to, or its code, is needed"
        )
    parameters = (flow.code_parameter, flow.state_parameter, flow.error_parameter)
    if "?" in text or "://" in text or any(f"{name}=" in text for name in parameters):
        # An address, or its query alone ("code=...&state=..."); a bare code may hold
        # "=" of its own (base64 padding), so it is a query only with those names.
        parts = urlsplit(text)
        values = query_values(parts.query if "?" in text or "://" in text else text)
        if flow.code_parameter not in values and flow.error_parameter not in values:
            raise AuthorizationRefused(
                f"the address carries no {flow.code_parameter!r}: approve the authorization, "
                "then give the address the browser was sent to"
            )
        matches = same_state(values.get(flow.state_parameter, ""), state)
        return _code(flow, values, matches)
    if any(character.isspace() or not character.isprintable() for character in text):
        raise AuthorizationRefused(
            "what was pasted is neither the address the browser was sent to nor a code"
        )
    return text


def _code(flow: AuthorizationFlow, values: Mapping[str, str], state_matches: bool) -> str:
    # The state first: an error parameter in a forged redirect proves nothing either.
    if not state_matches:
        raise AuthorizationRefused(
            "the redirect's state does not match the one this authorization sent: it "
            "belongs to another attempt or was forged; start the authorization again"
        )
    if flow.error_parameter in values:
        reason = values[flow.error_parameter] or "no reason given"
        description = values.get(f"{flow.error_parameter}_description")
        if description:
            reason = f"{reason}: {description}"
        raise AuthorizationRefused(f"the authorization was denied ({reason[:_QUOTED]})")
    code = values.get(flow.code_parameter)
    if not code:
        raise AuthorizationRefused(
            f"the redirect carries no {flow.code_parameter!r}: approve the authorization, "
            "then give the address the browser was sent to"
        )
    return code


def _listen_target(redirect_uri: str | None) -> tuple[int, str] | None:
    """Where to listen for ``redirect_uri``: a free port and the callback path when the
    host picks it, the URI's own port and path when it is plain http on this machine,
    None when the redirect goes elsewhere."""
    if redirect_uri is None:
        return 0, CALLBACK_PATH
    parts = urlsplit(redirect_uri)
    if parts.scheme != "http" or parts.hostname not in _LOOPBACK_NAMES:
        return None
    try:
        port = parts.port or 80
    except ValueError:  # not a port number
        return None
    return port, parts.path or "/"


def _pasted_redirect_uri(flow: AuthorizationFlow) -> str:
    """A loopback redirect URI where nothing listens: the browser shows an error page
    whose address (code and state included) the person pastes."""
    if not flow.loopback_redirect:
        raise AmpDestError(
            f"{type(flow).__name__} takes no loopback redirect: give the redirect URI "
            "registered for the app"
        )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}{CALLBACK_PATH}"


def _url(
    flow: AuthorizationFlow,
    values: Mapping[str, Any],
    redirect_uri: str,
    state: str,
    secret_values: tuple[str, ...],
) -> str:
    url = flow.authorization_url(values, redirect_uri, state)
    # The URL is printed and handed to a browser's command line: no secret may ride in it.
    if any(len(value) >= _SHORTEST_SECRET and value in url for value in secret_values):
        raise PluginError(
            f"{type(flow).__name__}.authorization_url put a secret in the URL; "
            "report this to the plugin's authors"
        )
    return url


def _show(browser: Browser, url: str) -> None:
    if browser is True:
        import webbrowser  # not for commands that never authorize

        webbrowser.open(url)
    elif callable(browser):
        browser(url)


def _too_late(seconds: float) -> str:
    span = f"{seconds / 60:g} minutes" if seconds >= 120 else f"{seconds:g} seconds"
    return f"no authorization arrived within {span}; start it again and approve in time"
