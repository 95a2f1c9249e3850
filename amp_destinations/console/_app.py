"""The console's Starlette application: the screens' routes, the static files, the
error pages, and the guard (``_security``) around all of it.

Why Starlette, Jinja2 and htmx: Starlette is a small, well-kept ASGI toolkit (routing,
form and multipart parsing, file responses, a test client) served by uvicorn, so the
console has no hand-made HTTP server; Jinja2 escapes every value it renders; htmx (one
vendored file, no build step) gives live progress, listed choices and connection tests
without a line of custom JavaScript, which keeps the Content-Security-Policy strict.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .._errors import AmpDestError, NotFoundError
from .._plugins import PluginInfo, Registry
from .._secrets import SecretStore
from .._store import default_home
from . import _credentials, _destinations, _runs, _send
from ._jobs import Jobs
from ._pages import Console, console, render, template_environment
from ._security import Guard

__all__ = ["DEFAULT_MAX_UPLOAD", "create_app"]

DEFAULT_MAX_UPLOAD = 1 << 30  # bytes: 1 GiB
_STATIC = Path(__file__).parent / "static"


def _home(request: Request) -> Response:
    return RedirectResponse("/destinations", status_code=303)


def _plugins(request: Request) -> Response:
    plugins: list[PluginInfo] = console(request).registry.plugins
    return render(request, "plugins.html", plugins=plugins)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return _error_page(request, exc.status_code, str(exc.detail))


async def _host_error(request: Request, exc: Exception) -> Response:
    return _error_page(request, 404 if isinstance(exc, NotFoundError) else 400, str(exc))


def _error_page(request: Request, status: int, message: str) -> Response:
    if "csrf" not in request.scope.get("state", {}):
        return Response(message, status_code=status, media_type="text/plain")
    return render(request, "error.html", status, status_code_shown=status, message=message)


def create_app(
    home: str | os.PathLike[str] | None = None,
    *,
    registry: Registry,
    token: str | None = None,
    secrets_store: SecretStore | None = None,
    transport: httpx.BaseTransport | None = None,
    max_upload: int = DEFAULT_MAX_UPLOAD,
) -> Starlette:
    """The console for the home ``home`` (as ``Host`` finds it when None) with the
    plugins of ``registry``. ``token`` is the one-time access token (a new random one
    when None: read it from ``app.state.token``); ``max_upload`` bounds a request's
    body in bytes. ``secrets_store`` and ``transport`` are ``Host``'s, for tests."""
    token = token or secrets.token_urlsafe(32)
    resolved = Path(home) if home is not None else default_home()

    def open_host():  # the jobs' hosts, as the screens open theirs
        return state.open_host()

    state = Console(
        home=resolved,
        registry=registry,
        secrets=secrets_store,
        transport=transport,
        max_upload=max_upload,
        jobs=Jobs(open_host),
        templates=template_environment(),
    )
    routes = [
        Route("/", _home),
        Route("/plugins", _plugins),
        *_credentials.routes,
        *_destinations.routes,
        *_send.routes,
        *_runs.routes,
        Mount("/static", StaticFiles(directory=_STATIC), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(Guard, token=token, max_body=max_upload)],
        exception_handlers={HTTPException: _http_error, AmpDestError: _host_error},
    )
    app.state.console = state
    app.state.token = token
    return app
