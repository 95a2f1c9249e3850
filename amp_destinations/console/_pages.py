"""What every screen shares: the console's state, a Host per request, and rendering.

Each request opens a Host of its own on the console's home, registry and secret
store (a SQLite connection is cheap to open and is not shared between the threads
Starlette answers requests on).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from .._display import count, share, when
from .._host import Host
from .._plugins import Registry
from .._secrets import SecretStore
from ._jobs import Jobs
from ._security import checked_form, csrf_token

__all__ = ["Console", "console", "posted", "render", "template_environment"]


@dataclass
class Console:
    """What the console was started with, and its background jobs."""

    home: Path
    registry: Registry
    secrets: SecretStore | None
    transport: httpx.BaseTransport | None
    max_upload: int
    jobs: Jobs
    templates: Environment

    def open_host(self) -> Host:
        """A Host of its own (use it with ``with``)."""
        return Host(
            self.home, registry=self.registry, secrets=self.secrets, transport=self.transport
        )

    @property
    def uploads(self) -> Path:
        """Where uploads go, one private folder each, until their run ends."""
        return self.home / "console-uploads"


def template_environment() -> Environment:
    env = Environment(
        loader=PackageLoader("amp_destinations.console", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["count"] = count
    env.filters["share"] = share
    env.filters["when"] = when
    return env


def console(request: Request) -> Console:
    found: Console = request.app.state.console
    return found


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """The page (or fragment) ``template`` with ``context``; every page gets the CSRF
    token its forms carry and the screen it belongs to, for the menu."""
    env = console(request).templates
    html = env.get_template(template).render(request=request, csrf=csrf_token(request), **context)
    return HTMLResponse(html, status_code=status_code)


def posted(
    handler: Callable[[Request, FormData], Response], **limits: Any
) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint of a form post: the form read and checked (``checked_form``: its
    origin and CSRF token), then ``handler(request, form)`` run in a worker thread, as
    Starlette runs a plain ``def`` endpoint (the Host's calls block: SQLite, the
    keyring, the remote system). Every post of the console goes through this."""

    async def endpoint(request: Request) -> Response:
        form = await checked_form(request, **limits)
        try:
            return await run_in_threadpool(handler, request, form)
        finally:
            await form.close()

    endpoint.__name__ = handler.__name__
    return endpoint
