"""The ``webhook`` destination and the ``bearer-token`` credential type."""

from __future__ import annotations

import email.utils
import http.server
import threading
import time

import httpx
import orjson
import pytest
from marshmallow import ValidationError

import amp_destinations
import amp_destinations.builtins.webhook
from amp_destinations import Credential, FailureType
from amp_destinations.builtins._webhook import BearerToken, WebhookDestination
from amp_destinations.testing import DestinationTests, make_batch

TOKEN = "tok_3f9a1c7e5b2d"
URL = "https://hooks.example.com/amp/events"


@pytest.fixture(scope="module")
def registry():
    return amp_destinations.load_plugins(entry_points=False)


@pytest.fixture
def session():
    with httpx.Client() as client:
        yield client


def make_webhook(**settings) -> WebhookDestination:
    loaded = WebhookDestination.settings_schema().load({"url": URL, **settings})
    return WebhookDestination(loaded, Credential("hooks", BearerToken(), {"token": TOKEN}))


ROWS = [{"email": "bob@example.com", "value": 12.5}, {"email": "carol@example.com", "value": 3}]


def assert_no_token(outcome_or_check):
    for text in vars(outcome_or_check).values():
        assert TOKEN not in str(text)


# -- registration and settings ---------------------------------------------------------


def test_webhook_and_bearer_token_are_registered_through_the_hooks(registry):
    assert registry.destination("webhook") is WebhookDestination
    assert registry.credential_type("bearer-token") is BearerToken
    assert WebhookDestination.credential_type == "bearer-token"
    assert BearerToken.title == "Bearer token"
    assert WebhookDestination.title == "Webhook (JSON POST)"


def test_the_token_is_a_secret_kept_out_of_reprs():
    assert BearerToken.secret_fields() == ["token"]
    credential = Credential("hooks", BearerToken(), {"token": TOKEN})
    assert TOKEN not in repr(credential)
    with pytest.raises(ValidationError):
        BearerToken.schema().load({})


def test_settings_defaults_and_a_per_webhook_batch_size():
    webhook = make_webhook()
    assert webhook.settings == {
        "url": URL,
        "test_url": None,
        "timeout": 30.0,
        "max_batch_size": 500,
    }
    assert webhook.max_batch_size == 500
    assert make_webhook(max_batch_size=20).max_batch_size == 20


@pytest.mark.parametrize(
    "settings, field",
    [
        ({"url": "http://hooks.example.com/amp"}, "url"),  # tokens never travel in clear
        ({"test_url": "ftp://hooks.example.com/"}, "test_url"),
        ({"timeout": 0}, "timeout"),
        ({"max_batch_size": 0}, "max_batch_size"),
        ({"max_batch_size": 10_001}, "max_batch_size"),
    ],
)
def test_settings_refuse_bad_values(settings, field):
    with pytest.raises(ValidationError) as caught:
        WebhookDestination.settings_schema().load({"url": URL, **settings})
    assert field in caught.value.messages


def test_plain_http_is_allowed_on_loopback_only():
    loaded = WebhookDestination.settings_schema().load({"url": "http://127.0.0.1:8080/hook"})
    assert loaded["url"] == "http://127.0.0.1:8080/hook"


def test_prepare_drops_empty_values():
    row = {"email": "bob@example.com", "phone": "", "city": None, "n": 0, "ok": False}
    assert make_webhook().prepare(row, []) == {"email": "bob@example.com", "n": 0, "ok": False}


# -- deliver ----------------------------------------------------------------------------


def test_a_batch_is_posted_as_a_json_array_with_the_token(httpx_mock, session):
    httpx_mock.add_response(method="POST", url=URL, status_code=202)
    webhook = make_webhook()
    batch = make_batch(webhook, ROWS)
    assert webhook.deliver(batch, session).kind == "delivered"
    request = httpx_mock.get_request()
    assert request.content == batch.body
    assert orjson.loads(request.content) == ROWS
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_a_rate_limit_is_retried_after_the_seconds_asked_and_slows_the_run(httpx_mock, session):
    httpx_mock.add_response(status_code=429, headers={"Retry-After": "7"})
    outcome = make_webhook().deliver(make_batch(make_webhook(), ROWS), session)
    assert (outcome.kind, outcome.retry_after, outcome.throttled) == ("retry", 7.0, True)


def test_retry_after_may_be_an_http_date(httpx_mock, session):
    later = email.utils.formatdate(time.time() + 3600, usegmt=True)
    httpx_mock.add_response(status_code=503, headers={"Retry-After": later})
    long_ago = "Tue, 01 Jan 2019 00:00:00 GMT"
    httpx_mock.add_response(status_code=503, headers={"Retry-After": long_ago})
    webhook = make_webhook()
    soon, past = (webhook.deliver(make_batch(webhook, ROWS), session) for _ in range(2))
    assert soon.kind == "retry" and not soon.throttled
    assert 3000 < soon.retry_after <= 3600
    assert past.retry_after == 0.0


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
def test_server_failures_are_retried(httpx_mock, session, status):
    httpx_mock.add_response(status_code=status)
    outcome = make_webhook().deliver(make_batch(make_webhook(), ROWS), session)
    assert (outcome.kind, outcome.retry_after) == ("retry", None)
    assert str(status) in outcome.message


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_token_stops_the_run_with_the_fix(httpx_mock, session, status):
    httpx_mock.add_response(status_code=status, text=f"bad token {TOKEN}")
    outcome = make_webhook().deliver(make_batch(make_webhook(), ROWS), session)
    assert outcome.kind == "fatal"
    assert outcome.failure is FailureType.AUTH
    assert "the webhook refused the token" in outcome.message
    assert "`amp-dest credentials update hooks --secret token`" in outcome.message
    assert_no_token(outcome)


@pytest.mark.parametrize("status", [400, 413, 422, 409])
def test_a_refused_batch_is_rejected_without_quoting_the_answer(httpx_mock, session, status):
    answer = f"invalid record a@example.com; you sent Authorization: Bearer {TOKEN}"
    httpx_mock.add_response(status_code=status, text=answer)
    outcome = make_webhook().deliver(make_batch(make_webhook(), ROWS), session)
    assert outcome.kind == "rejected"
    assert outcome.code == "webhook.rejected"
    assert outcome.message == f"the webhook refused the batch (HTTP {status})"
    assert_no_token(outcome)


@pytest.mark.parametrize("status", [404, 405, 410, 301])
def test_a_wrong_url_stops_the_run(httpx_mock, session, status):
    httpx_mock.add_response(status_code=status)
    outcome = make_webhook().deliver(make_batch(make_webhook(), ROWS), session)
    assert (outcome.kind, outcome.failure) == ("fatal", FailureType.CONFIG)
    assert "check the url setting" in outcome.message


@pytest.mark.parametrize(
    "error", [httpx.ReadTimeout("timed out"), httpx.ConnectError("connection refused")]
)
def test_timeouts_and_network_errors_are_retried(httpx_mock, session, error):
    httpx_mock.add_exception(error)
    outcome = make_webhook(timeout=2.5).deliver(make_batch(make_webhook(), ROWS), session)
    assert outcome.kind == "retry"
    assert "hooks.example.com" in outcome.message
    assert_no_token(outcome)


# -- test_connection --------------------------------------------------------------------


def test_connection_test_sends_head_to_the_url_and_never_posts(httpx_mock, session):
    httpx_mock.add_response(method="HEAD", url=URL, status_code=200)
    status = make_webhook().test_connection(session)
    assert status.ok
    assert [check.name for check in status.checks] == ["url reachable", "token accepted"]
    request = httpx_mock.get_request()
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.content == b""


def test_connection_test_gets_the_test_url_when_set(httpx_mock, session):
    test_url = "https://hooks.example.com/amp/whoami"
    httpx_mock.add_response(method="GET", url=test_url, json={"ok": True})
    assert make_webhook(test_url=test_url).test_connection(session).ok
    assert [request.method for request in httpx_mock.get_requests()] == ["GET"]


def test_connection_test_reports_a_refused_token_with_the_fix(httpx_mock, session):
    httpx_mock.add_response(method="HEAD", status_code=401)
    status = make_webhook().test_connection(session)
    assert status.failure is FailureType.AUTH
    failed = status.first_failure
    assert failed.name == "token accepted"
    assert failed.hint == "update it with `amp-dest credentials update hooks --secret token`"
    assert_no_token(failed)


def test_connection_test_reports_an_unreachable_host(httpx_mock, session):
    httpx_mock.add_exception(httpx.ConnectError("name resolution failed"))
    status = make_webhook().test_connection(session)
    assert status.failure is FailureType.TRANSIENT
    assert [check.name for check in status.checks] == ["url reachable"]
    assert "hooks.example.com" in status.first_failure.hint


def test_connection_test_reports_a_url_with_nothing_behind_it(httpx_mock, session):
    httpx_mock.add_response(method="HEAD", status_code=404)
    status = make_webhook().test_connection(session)
    assert status.failure is FailureType.CONFIG
    assert status.first_failure.hint == "check the URL"


def test_connection_test_passes_a_post_only_url_but_says_how_to_check_more(httpx_mock, session):
    httpx_mock.add_response(method="HEAD", status_code=405)
    status = make_webhook().test_connection(session)
    assert status.ok
    assert "set test_url" in status.checks[-1].message


def test_connection_test_reports_a_failing_service_as_transient(httpx_mock, session):
    httpx_mock.add_response(method="HEAD", status_code=503)
    assert make_webhook().test_connection(session).failure is FailureType.TRANSIENT


# -- end to end through a real socket ----------------------------------------------------


class RecordingHandler(http.server.BaseHTTPRequestHandler):
    """Keeps what arrived, answers 200; the server's ``received`` list is per test."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((self.command, self.path, dict(self.headers), body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_HEAD(self):
        self.server.received.append((self.command, self.path, dict(self.headers), b""))
        self.send_response(200 if self.headers["Authorization"] == f"Bearer {TOKEN}" else 401)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format, *args):
        pass


@pytest.fixture
def local_webhook():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RecordingHandler)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.mark.e2e
def test_bodies_arrive_byte_exact_at_a_real_server(local_webhook, session):
    port = local_webhook.server_address[1]
    loaded = WebhookDestination.settings_schema().load({"url": f"http://127.0.0.1:{port}/in"})
    webhook = WebhookDestination(loaded, Credential("hooks", BearerToken(), {"token": TOKEN}))
    rows = [{"email": "zoë@example.com", "value": 12.5, "note": ""}] * 3 + ROWS
    batch = make_batch(webhook, rows)

    assert webhook.test_connection(session).ok
    assert webhook.deliver(batch, session).kind == "delivered"

    (head, post) = local_webhook.received
    assert head[0] == "HEAD"
    method, path, headers, body = post
    assert (method, path) == ("POST", "/in")
    assert body == batch.body
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert headers["Content-Type"] == "application/json"


# -- the standard suite ----------------------------------------------------------------


class TestWebhookDestinationContract(DestinationTests):
    """The contract every destination keeps, checked by amp_destinations.testing."""

    destination_class = WebhookDestination
    credential_type_class = BearerToken
    plugin = amp_destinations.builtins.webhook
    settings = {"url": URL}
    credential = {"token": TOKEN}
    good_rows = (*ROWS, {"email": "dan@example.com", "value": None, "note": ""})

    def rejected_response(self, request):
        return httpx.Response(422, json={"error": "carol@example.com is not allowed"})
