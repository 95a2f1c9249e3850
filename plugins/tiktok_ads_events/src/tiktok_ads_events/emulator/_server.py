"""HTTP/1.1 with keep-alive on loopback, one thread per connection, bounded everywhere.

Every connection socket has a timeout (idle keep-alive connections close on their own),
and stopping shuts down the open connections, so ``stop()`` never waits on an idle client.
"""

from __future__ import annotations

import logging
import socket
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .._constants import MAX_REQUEST_BYTES, PORTAL_AUTH_PATH
from ._admin import ADMIN_PREFIX, handle_admin
from ._api import EmulatorApi
from ._messages import Request, Response, plain
from ._portal import handle_portal

logger = logging.getLogger("tiktok_ads_events.emulator")

_MAX_CHUNK_LINE = 1024


class _BodyError(Exception):
    def __init__(self, status: int, text: str):
        super().__init__(text)
        self.status = status


class EmulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # The listen backlog. socketserver's default of 5 drops the SYNs of a client that
    # opens a connection per worker at once while the accepting thread waits for the
    # GIL (the emulator often shares a process with the host under test): the client
    # then sees a connect timeout for a request that never arrived. Real servers
    # queue far more.
    request_queue_size = 128

    def __init__(
        self, address: tuple[str, int], api: EmulatorApi, *, idle_timeout: float, verbose: bool
    ):
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.api = api
        self.idle_timeout = idle_timeout
        self.verbose = verbose
        self.stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def track(self, connection: socket.socket) -> None:
        with self._connections_lock:
            if self.stopping.is_set():
                _shut(connection)
            self._connections.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)

    def close_connections(self) -> None:
        """Wake every connection thread (idle in recv, or mid-answer) so it ends now."""
        self.stopping.set()
        with self._connections_lock:
            for connection in self._connections:
                _shut(connection)

    def handle_error(self, request, client_address) -> None:
        # A client that hangs up, or a connection closed by stop(), is not an error.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)) or self.stopping.is_set():
            return
        super().handle_error(request, client_address)


def _shut(connection: socket.socket) -> None:
    try:
        connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: EmulatorHTTPServer

    def setup(self) -> None:
        super().setup()
        # What StreamRequestHandler.setup does with its class-wide ``timeout``, with
        # this server's own.
        self.connection.settimeout(self.server.idle_timeout)
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def log_message(self, format: str, *args) -> None:
        # The standard handler would print request lines and timeouts to stderr.
        if self.server.verbose:
            logger.debug("connection: " + format, *args)

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _serve(self) -> None:
        started = time.perf_counter()
        path, _, query = self.path.partition("?")
        try:
            body = self._read_body()
        except _BodyError as error:
            self.close_connection = True
            self._write(plain(error.status, str(error)))
            return
        request = Request(self.command, path, query, self.headers, body)
        if path.startswith(ADMIN_PREFIX):
            response = handle_admin(self.server.api.state, request)
        elif path == PORTAL_AUTH_PATH:
            response = handle_portal(self.server.api.state, request)
        else:
            response = self.server.api.handle(request)
        if response.delay and self.server.stopping.wait(response.delay):
            response.drop = True
        if response.drop:
            self.close_connection = True
        else:
            self._write(response)
        if self.server.verbose:
            outcome = "dropped" if response.drop else f"{response.status} code={response.code}"
            elapsed_ms = (time.perf_counter() - started) * 1000
            logger.info("%s %s %s %.1fms", self.command, path, outcome, elapsed_ms)

    def _read_body(self) -> bytes:
        encoding = self.headers.get("Transfer-Encoding")
        length = self.headers.get("Content-Length")
        if encoding is not None:
            if encoding.strip().lower() != "chunked" or length is not None:
                raise _BodyError(400, "400 unsupported Transfer-Encoding")
            return self._read_chunked()
        if length is None:
            return b""
        if not length.strip().isdigit():
            raise _BodyError(400, "400 invalid Content-Length")
        size = int(length)
        if size > MAX_REQUEST_BYTES:
            raise _BodyError(413, f"413 request body larger than {MAX_REQUEST_BYTES} bytes")
        body = self.rfile.read(size)
        if len(body) < size:
            raise ConnectionError("client closed the connection mid-body")
        return body

    def _read_chunked(self) -> bytes:
        chunks, total = [], 0
        while True:
            line = self.rfile.readline(_MAX_CHUNK_LINE)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise _BodyError(400, "400 invalid chunk size") from None
            if size == 0:
                break
            total += size
            if total > MAX_REQUEST_BYTES:
                raise _BodyError(413, f"413 request body larger than {MAX_REQUEST_BYTES} bytes")
            chunks.append(self.rfile.read(size))
            self.rfile.readline(_MAX_CHUNK_LINE)
        while self.rfile.readline(_MAX_CHUNK_LINE) not in (b"\r\n", b"\n", b""):
            pass  # trailer fields, which nothing here needs
        return b"".join(chunks)

    def _write(self, response: Response) -> None:
        reason = HTTPStatus(response.status).phrase
        head = [
            f"HTTP/1.1 {response.status} {reason}",
            f"Content-Type: {response.content_type}",
            f"Content-Length: {len(response.body)}",
        ]
        head.extend(f"{name}: {value}" for name, value in response.headers)
        if self.close_connection:
            head.append("Connection: close")
        # One write for head and body: no Nagle/delayed-ACK stall between two small sends.
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + response.body)
