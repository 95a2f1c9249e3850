"""The host's HTTP session, against a real server on 127.0.0.1."""

from __future__ import annotations

import gc
import http.server
import threading
import weakref

import pytest

import amp_destinations as amp
from amp_destinations._http import USER_AGENT, make_session


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.server.agents.append(self.headers["User-Agent"])
        if self.path == "/redirect":
            self.send_response(307)
            self.send_header("Location", "/elsewhere")
        else:
            self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.agents = []
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield httpd, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def _request_outlives_response(client, url) -> bool:
    response = client.post(url + "/in", content=b"x" * 100_000)
    request = weakref.ref(response.request)
    del response
    return request() is not None


def test_a_sent_batch_is_freed_without_waiting_for_the_garbage_collector(server):
    """httpx keeps a response in a reference cycle with its stream; a long run then
    held every request body until a full collection. The session breaks the cycle
    (a plain httpx 0.28 Client fails this test)."""
    _, url = server
    gc.collect()
    gc.disable()
    try:
        with make_session() as session:
            assert not _request_outlives_response(session, url)
    finally:
        gc.enable()


def test_the_session_names_itself_and_never_follows_redirects(server):
    httpd, url = server
    with make_session() as session:
        response = session.post(url + "/redirect", content=b"{}")
    assert response.status_code == 307
    assert httpd.agents == [USER_AGENT]


@pytest.mark.parametrize(
    "header, seconds",
    [
        ("7", 7.0),
        (" 2.5 ", 2.5),
        ("-3", 0.0),
        ("Thu, 01 Jan 1970 00:01:40 GMT", 60.0),
        ("Thu, 01 Jan 1970 00:00:10 GMT", 0.0),
        (None, None),
        ("", None),
        ("soon", None),
        ("inf", None),
        ("nan", None),
    ],
)
def test_retry_after_reads_seconds_or_an_http_date(header, seconds):
    assert amp.retry_after_seconds(header, now=40.0) == seconds
