"""The loopback redirect listener of an authorization: a tiny HTTP server on 127.0.0.1
that waits for the one redirect carrying this authorization's state.

It answers the redirect path only: a request there carrying the code (or the
provider's error) ends the wait, whatever its state, so that a mismatch is refused at
once rather than after the time limit; anything else (``/favicon.ico``, a request
without the parameters) gets a 404 or 400 and is otherwise ignored. The pages it shows
quote nothing from the request. Nothing is logged: a request line carries the code.
"""

from __future__ import annotations

import hmac
import threading
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

__all__ = ["Redirect", "RedirectListener", "query_values", "same_state", "CALLBACK_PATH"]

# Where the redirect lands when the host picks the redirect URI.
CALLBACK_PATH = "/callback"
# Seconds a connection may stay silent: a browser's speculative connection that never
# sends a request must not hold a thread for long.
_CONNECTION_TIMEOUT = 10.0

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>amp-dest: {title}</title></head>
<body style="font-family: sans-serif; margin: 3em"><h1>{title}</h1><p>{text}</p></body></html>
"""


@dataclass(frozen=True)
class Redirect:
    """What the redirect carried: the query's values, first of each name, and whether
    its state was this authorization's."""

    values: dict[str, str]
    state_matches: bool


def same_state(given: str, expected: str) -> bool:
    """In constant time; as bytes, since compare_digest refuses non-ASCII text."""
    return hmac.compare_digest(given.encode(), expected.encode())


def query_values(query: str) -> dict[str, str]:
    """A URL query's values, the first of each name (blank values kept)."""
    return {key: values[0] for key, values in parse_qs(query, keep_blank_values=True).items()}


class RedirectListener:
    """Listens on ``127.0.0.1:port`` (a free one for 0) for a redirect to ``path``.

    ``start()`` binds and serves on a thread of its own; ``wait(timeout)`` returns the
    first redirect that carries ``code_parameter`` or ``error_parameter``, or None when
    the time is up; ``close()`` stops serving and frees the port. A context manager.
    """

    def __init__(
        self,
        state: str,
        *,
        path: str = CALLBACK_PATH,
        port: int = 0,
        state_parameter: str = "state",
        code_parameter: str = "code",
        error_parameter: str = "error",
    ):
        self.path = path or "/"
        self._state = state
        self._port = port
        self._parameters = (state_parameter, code_parameter, error_parameter)
        self._arrived = threading.Event()
        self._lock = threading.Lock()
        self._redirect: Redirect | None = None
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._server is not None, "start() first"
        return self._server.server_address[1]

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    def start(self) -> RedirectListener:
        listener = self

        class Handler(_Handler):
            def do_GET(self) -> None:  # http.server's name for it
                listener._answer(self)

        server = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
        server.daemon_threads = True  # a stalled connection never keeps the process alive
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()
        return self

    def wait(self, timeout: float) -> Redirect | None:
        """The redirect, or None after ``timeout`` seconds. Ctrl-C stops the wait (the
        caller closes the listener)."""
        self._arrived.wait(timeout)
        with self._lock:
            return self._redirect

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> RedirectListener:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _answer(self, request: _Handler) -> None:
        target = urlsplit(request.path)
        if target.path != self.path:
            request.page(HTTPStatus.NOT_FOUND, "Not here", "amp-dest waits elsewhere.")
            return
        values = query_values(target.query)
        state_parameter, code_parameter, error_parameter = self._parameters
        if code_parameter not in values and error_parameter not in values:
            request.page(
                HTTPStatus.BAD_REQUEST,
                "Not an authorization",
                "This address receives the provider's redirect after you approve.",
            )
            return
        matches = same_state(values.get(state_parameter, ""), self._state)
        with self._lock:
            first = self._redirect is None
            if first:
                self._redirect = Redirect(values, matches)
        if not first:
            request.page(HTTPStatus.GONE, "Already answered", "You can close this tab.")
        elif not matches:
            request.page(
                HTTPStatus.BAD_REQUEST,
                "Authorization refused",
                "This redirect does not belong to the authorization amp-dest started. "
                "Start it again from the command line.",
            )
        elif error_parameter in values:
            request.page(
                HTTPStatus.OK,
                "Authorization denied",
                "amp-dest was not authorized. You can close this tab.",
            )
        else:
            request.page(
                HTTPStatus.OK,
                "Authorized",
                "amp-dest received the authorization. You can close this tab.",
            )
        self._arrived.set()


class _Handler(BaseHTTPRequestHandler):
    timeout = _CONNECTION_TIMEOUT
    server_version = "amp-dest"
    sys_version = ""

    def page(self, status: HTTPStatus, title: str, text: str) -> None:
        body = _PAGE.format(title=title, text=text).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        # The address holds the code: keep it out of caches and of any later Referer.
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Silent: http.server would write each request line, code included, to stderr."""
