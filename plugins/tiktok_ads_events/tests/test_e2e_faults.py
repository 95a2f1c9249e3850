"""Every fault the emulator can inject, through the Python API over real sockets.

Each run sends the shipped example file in batches of 100 (12 requests when nothing
goes wrong) and must end with every row delivered or reported, counts that add up,
and each valid event stored once. TikTok deduplicates on event_id, so an event may
arrive twice only where the outcome of a request was unknown (the answer was lost
after TikTok accepted it): ``duplicates`` says exactly how many arrived again.
"""

from __future__ import annotations

import contextlib
import csv
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import e2e_support as e2e

from tiktok_ads_events._constants import REFRESH_TOKEN_PATH, TRACK_PATH
from tiktok_ads_events.emulator import Emulator

pytestmark = pytest.mark.e2e

BATCH_SIZE = 100
VALID_ROWS = e2e.SHIPPED_ROWS - 44
CLEAN_REQUESTS = -(-VALID_ROWS // BATCH_SIZE)  # 12 batches, the last one partial


@pytest.fixture(scope="module")
def events_csv(tmp_path_factory):
    return e2e.write_refreshed_events(tmp_path_factory.mktemp("input") / "events.csv")


@pytest.fixture(scope="module")
def valid(events_csv):
    return e2e.valid_rows(e2e.read_rows(events_csv))


@pytest.fixture
def send_with_faults(tmp_path, events_csv):
    """Send the example file to an emulator armed with ``faults``. The run's result
    comes back with the emulator (stopped, its state still readable), the host, and
    how many token exchanges the send made."""
    with contextlib.ExitStack() as stack:

        def send(faults: dict, *, app: bool = False, timeout: float = 30.0) -> SimpleNamespace:
            emulator = stack.enter_context(Emulator(faults=faults))
            host = stack.enter_context(e2e.new_host(tmp_path / "home"))
            name = e2e.add_tiktok(host, emulator.base_url, app=app)
            exchanges_before = emulator.state.request_count(REFRESH_TOKEN_PATH)
            result = host.send(
                name, input=events_csv, batch_size=BATCH_SIZE, retry=e2e.FAST_RETRY, timeout=timeout
            )
            emulator.stop()
            return SimpleNamespace(
                result=result,
                summary=result.summary,
                emulator=emulator,
                host=host,
                exchanges=emulator.state.request_count(REFRESH_TOKEN_PATH) - exchanges_before,
            )

        yield send


def _assert_complete(sent, expected_ids: set[str]) -> None:
    summary = sent.summary
    assert sent.result.status == "succeeded", sent.result.error
    e2e.assert_counts_add_up(summary)
    assert summary["pending"] == 0
    assert summary["delivered"] == len(expected_ids)
    assert summary["delivered"] + summary["rejected"] == e2e.SHIPPED_ROWS
    e2e.assert_stored_once(sent.emulator, expected_ids)


def _assert_requests_seen(sent) -> None:
    """The host counted every request the emulator received, and no more."""
    assert sent.summary["requests"] == sent.emulator.state.request_count(TRACK_PATH)


@pytest.mark.parametrize(
    "faults, faulted",
    [
        pytest.param({"rate_limit": {"count": 6}}, 6, id="rate-limit-burst-40100"),
        pytest.param(
            {"rate_limit": {"fraction": 0.3, "code": 40016}, "seed": 3},
            None,
            id="rate-limit-spread-40016",
        ),
        pytest.param({"http_error": {"count": 3, "status": 503}}, 3, id="http-503"),
        pytest.param({"http_error": {"count": 2, "status": 500}}, 2, id="http-500"),
        pytest.param(
            {"http_error": {"count": 2, "status": 429, "retry_after": 0}},
            2,
            id="http-429-retry-after",
        ),
        pytest.param({"server_error": {"count": 3}}, 3, id="code-50000"),
        pytest.param({"server_error": {"count": 2, "code": 51305}}, 2, id="code-51305"),
        pytest.param({"drop": {"count": 2}}, 2, id="drop-before-accept"),
    ],
)
def test_transient_faults_are_retried_and_nothing_arrives_twice(
    send_with_faults, valid, faults, faulted
):
    sent = send_with_faults(faults)
    _assert_complete(sent, set(valid))
    _assert_requests_seen(sent)
    retries = sent.summary["retries"]
    assert sent.summary["requests"] == CLEAN_REQUESTS + retries
    if faulted is None:
        assert retries > 0
    else:
        assert retries == faulted
    assert sent.summary["rejected"] == 44
    assert sent.emulator.state.duplicates == 0


def test_dropped_connection_after_accept_resends_exactly_those_batches(send_with_faults, valid):
    sent = send_with_faults({"drop": {"count": 2, "after_accept": True}})
    _assert_complete(sent, set(valid))
    _assert_requests_seen(sent)
    assert sent.summary["retries"] == 2
    # The first requests carry full batches; TikTok had stored both before the
    # connection dropped, so their events arrived a second time and were deduplicated.
    assert sent.emulator.state.duplicates == 2 * BATCH_SIZE


def test_answer_slower_than_the_client_timeout_is_resent_once(send_with_faults, valid):
    sent = send_with_faults({"slow": {"count": 1, "seconds": 5}}, timeout=1.0)
    _assert_complete(sent, set(valid))
    _assert_requests_seen(sent)
    assert sent.summary["retries"] == 1
    assert sent.emulator.state.duplicates == BATCH_SIZE


def test_poisoned_event_is_isolated_and_rejected_with_tiktoks_message(send_with_faults, valid):
    poisoned = sorted(valid)[500]
    sent = send_with_faults({"poison_event_ids": [poisoned]})
    _assert_complete(sent, set(valid) - {poisoned})
    _assert_requests_seen(sent)
    assert sent.summary["rejected"] == 45
    assert sent.summary["rejected_by_code"]["tiktok.invalid_parameter"] == 1
    assert sent.summary["requests"] > CLEAN_REQUESTS  # the batch was split
    assert sent.emulator.state.duplicates == 0
    with open(sent.result.rejects_path, newline="", encoding="utf-8") as handle:
        remote = [r for r in csv.DictReader(handle) if r["code"] == "tiktok.invalid_parameter"]
    assert [r["record_id"] for r in remote] == [poisoned]
    assert "code 40002" in remote[0]["message"]
    assert "emulator poison_event_ids fault" in remote[0]["message"]


def test_expired_access_token_is_refreshed_and_the_run_completes(send_with_faults, valid):
    sent = send_with_faults({"token_expiry_after": 10}, app=True)
    _assert_complete(sent, set(valid))
    # One exchange when the run started and one per expiry; each request TikTok refused
    # for the expired token was sent again by the plugin within the same delivery.
    assert sent.exchanges >= 2
    assert sent.emulator.state.request_count(TRACK_PATH) > sent.summary["requests"]
    assert sent.summary["retries"] == 0
    assert sent.emulator.state.duplicates == 0
    stored = sent.host.secrets.get("tiktok-cred", "refresh_token")
    assert stored != e2e.APP_REFRESH_TOKEN
    assert stored.startswith("rft.")


def test_partly_successful_answers_count_as_delivered_with_tiktoks_note(send_with_faults, valid):
    sent = send_with_faults({"partial": {"count": 3}})
    _assert_complete(sent, set(valid))
    _assert_requests_seen(sent)
    assert sent.summary["retries"] == 0
    assert sent.emulator.state.duplicates == 0
    notes = sent.summary["remote_notes"]
    assert notes and all("code 20001" in note for note in notes)
    assert any("Partially successful" in note for note in notes)
