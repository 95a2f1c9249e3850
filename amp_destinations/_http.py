"""HTTP for plugins: the one pooled client a host hands them, and reading Retry-After."""

from __future__ import annotations

import email.utils
import math
import time

import httpx

from ._defaults import DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT
from ._version import __version__

__all__ = ["make_session", "retry_after_seconds", "USER_AGENT"]

USER_AGENT = f"amp-destinations/{__version__}"

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


def make_session(
    transport: httpx.BaseTransport | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    timeout: float = DEFAULT_TIMEOUT,
) -> httpx.Client:
    """Keep-alive connections sized to the run's concurrency; no redirects, because a
    redirected POST could carry a token to a host nobody configured."""
    return _Session(
        transport=transport,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        limits=httpx.Limits(
            max_connections=concurrency + 2, max_keepalive_connections=concurrency + 2
        ),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
    )


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """A ``Retry-After`` header in seconds from now (it holds delta seconds or an HTTP
    date, RFC 9110); None when absent or unreadable, never negative."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)
