"""The one pooled HTTP client a host hands to plugins."""

from __future__ import annotations

import httpx

from ._engine import DEFAULT_CONCURRENCY
from ._version import __version__

__all__ = ["make_session", "USER_AGENT", "DEFAULT_TIMEOUT"]

USER_AGENT = f"amp-destinations/{__version__}"
DEFAULT_TIMEOUT = 30.0

_SPENT = httpx.ByteStream(b"")


class _Session(httpx.Client):
    """An ``httpx.Client`` whose finished responses are freed as soon as the caller
    drops them.

    httpx 0.28 binds each response and its stream in a reference cycle (see
    encode/httpx#3733), so a response, its request and the request's body, a whole
    batch, wait for a full garbage collection: memory grew with the length of a run.
    Once the body has been read the stream is spent, and replacing it breaks the cycle.
    """

    def send(self, request: httpx.Request, **kwargs) -> httpx.Response:
        response = super().send(request, **kwargs)
        if response.is_closed:
            response.stream = _SPENT
        return response


def make_session(transport: httpx.BaseTransport | None = None,
                 concurrency: int = DEFAULT_CONCURRENCY,
                 timeout: float = DEFAULT_TIMEOUT) -> httpx.Client:
    """Keep-alive connections sized to the run's concurrency; no redirects, because a
    redirected POST could carry a token to a host nobody configured."""
    return _Session(
        transport=transport,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        limits=httpx.Limits(max_connections=concurrency + 2,
                            max_keepalive_connections=concurrency + 2),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
    )
