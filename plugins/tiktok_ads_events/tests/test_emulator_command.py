"""The emulator command: ``python -m tiktok_ads_events.emulator`` as a real subprocess, and
the click command ``emulator`` that ``amp-dest tiktok emulator`` exposes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import httpx
import pytest
from click.testing import CliRunner

from tiktok_ads_events._constants import OFFLINE_GET_PATH
from tiktok_ads_events.emulator.cli import emulator

# The longest the emulator process may take to start or stop before the test counts it as hung.
PROCESS_TIMEOUT = 30


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tiktok_ads_events.emulator", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def launched():
    """Start emulator processes; any still running at the end of the test is killed."""
    processes: list[subprocess.Popen] = []

    def launch(*args: str) -> tuple[subprocess.Popen, str]:
        process = start(*args)
        processes.append(process)
        return process, process.stdout.readline().strip()

    yield launch
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=PROCESS_TIMEOUT)


def read_event_sets(
    base_url: str, token: str = "emulator-token", advertiser_id: str = "7000000000000000001"
):
    answer = httpx.get(
        base_url + OFFLINE_GET_PATH,
        params={"advertiser_id": advertiser_id},
        headers={"Access-Token": token},
        timeout=10,
    )
    return answer.json()


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_the_command_prints_its_url_answers_and_stops_cleanly_on_a_signal(launched, stop_signal):
    process, base_url = launched()
    assert base_url.startswith("http://127.0.0.1:")
    answer = read_event_sets(base_url)
    assert answer["code"] == 0
    assert answer["data"]["event_set_list"][0]["name"] == "Store sales"

    process.send_signal(stop_signal)
    stdout, stderr = process.communicate(timeout=PROCESS_TIMEOUT)
    assert process.returncode == 0
    assert stdout == ""  # the URL was the only line
    assert stderr.strip().splitlines()[-1] == "stopped"


def test_the_command_stops_with_an_idle_keep_alive_client_connected(launched):
    process, base_url = launched()
    with httpx.Client(base_url=base_url, headers={"Access-Token": "emulator-token"}) as client:
        client.get(OFFLINE_GET_PATH, params={"advertiser_id": "7000000000000000001"})
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=PROCESS_TIMEOUT)
    assert process.returncode == 0


def test_ready_file_and_seed_file(launched, tmp_path):
    seed = tmp_path / "seed.json"
    seed.write_text(
        json.dumps(
            {
                "access_tokens": [{"token": "file-token"}],
                "advertisers": [
                    {
                        "advertiser_id": "42",
                        "event_sets": [{"event_set_id": "43", "name": "From file"}],
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    ready = tmp_path / "emulator.url"
    process, base_url = launched("--seed", str(seed), "--ready-file", str(ready))
    assert ready.read_text(encoding="utf-8") == base_url + "\n"
    answer = read_event_sets(base_url, token="file-token", advertiser_id="42")
    assert answer["data"]["event_set_list"][0]["name"] == "From file"
    assert read_event_sets(base_url)["code"] == 40105  # the default seed's token is not here


def test_verbose_logs_one_line_per_request_without_tokens_or_bodies(launched):
    process, base_url = launched("--verbose")
    read_event_sets(base_url)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=PROCESS_TIMEOUT)
    request_lines = [line for line in stderr.splitlines() if OFFLINE_GET_PATH in line]
    assert len(request_lines) == 1
    assert request_lines[0].startswith(f"GET {OFFLINE_GET_PATH} 200 code=0")
    assert "emulator-token" not in stderr and "advertiser_id" not in stderr


def test_the_command_refuses_a_host_beyond_loopback():
    result = CliRunner().invoke(emulator, ["--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "loopback" in result.output


def test_the_command_refuses_a_bad_seed_naming_the_field(tmp_path):
    seed = tmp_path / "seed.json"
    seed.write_text('{"advertisers": [{"name": "no id"}]}', encoding="utf-8")
    result = CliRunner().invoke(emulator, ["--seed", str(seed)])
    assert result.exit_code == 1
    assert "seed.advertisers[0].advertiser_id: required" in result.output
