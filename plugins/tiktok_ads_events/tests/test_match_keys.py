"""The host's match-quality figures for TikTok's declared keys, on the shipped example
file: a dry run, so nothing leaves the machine."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from amp_destinations import Host, SecretStore
from amp_destinations._match_keys import shares, warning
from amp_destinations.testing import MemoryKeyring

sys.path.insert(0, str(Path(__file__).parent))
import e2e_support as e2e


@pytest.fixture
def host(tmp_path, tt):
    with Host(tmp_path / "home", secrets=SecretStore(backend=MemoryKeyring(), environ={})) as host:
        host.add_credential(
            "tiktok", "tiktok-offline-events", {}, {"refresh_token": tt.LONG_TERM_TOKEN}
        )
        host.add_destination(
            "sales",
            "tiktok-offline-events",
            "tiktok",
            {"advertiser_id": tt.ADVERTISER_ID, "event_set_id": tt.EVENT_SET_ID},
            test=False,
        )
        yield host


def test_the_example_file_carries_two_or_three_keys_on_most_events(host, tmp_path):
    # Shifted to end an hour ago, as the demo does: the shipped timestamps age out.
    events = e2e.write_refreshed_events(tmp_path / "events.csv")
    result = host.send("sales", input=events, dry_run=True, output=tmp_path / "bodies")
    s = result.summary
    assert (s["rows_read"], s["delivered"], s["rejected"]) == (1200, 1156, 44)
    # Every event has an email, 72% a phone and 50% an external id; the file has no
    # click id, cookie, ip or user agent. The 44 rejected rows are not counted.
    assert s["identifier_coverage"] == {
        "email": 1.0,
        "phone": 0.7189,
        "external_id": 0.5026,
        "ttclid or ttp": 0.0,
        "ip with user agent": 0.0,
    }
    # 167 + 566 + 423 = the 1,156 prepared events.
    assert s["match_keys"] == {"0": 0, "1": 167, "2": 566, "3+": 423}
    assert shares(s["match_keys"]) == "1 key 14%, 2 keys 49%, 3+ keys 37%"
    assert warning(s) is None
