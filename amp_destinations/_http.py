"""The one pooled HTTP client a host hands to plugins."""

from __future__ import annotations

import httpx

from ._version import __version__

__all__ = ["make_session", "USER_AGENT", "DEFAULT_TIMEOUT"]

USER_AGENT = f"amp-destinations/{__version__}"
DEFAULT_TIMEOUT = 30.0


def make_session(transport: httpx.BaseTransport | None = None, concurrency: int = 4,
                 timeout: float = DEFAULT_TIMEOUT) -> httpx.Client:
    """Keep-alive connections sized to the run's concurrency; no redirects, because a
    redirected POST could carry a token to a host nobody configured."""
    return httpx.Client(
        transport=transport,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        limits=httpx.Limits(max_connections=concurrency + 2,
                            max_keepalive_connections=concurrency + 2),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
    )
