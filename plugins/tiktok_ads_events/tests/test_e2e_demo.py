"""The README's main job, ``examples/demo.sh``, run as an operator would run it, reusing
this environment (``AMP_DEST_VENV``) instead of building a virtual environment."""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import e2e_support as e2e

pytestmark = pytest.mark.e2e


def fresh_env(**more: str) -> dict[str, str]:
    """A headless machine's environment: no keyring backend, no AMP_DEST_ variable."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AMP_DEST_")}
    env.update(PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring", **more)
    return env


def run_demo(home: Path) -> subprocess.CompletedProcess:
    venv = Path(sys.prefix)
    if not (venv / "bin" / "amp-dest").exists():
        # The script would build a virtual environment from the network: not in a test.
        pytest.skip(f"{venv} has no amp-dest script for demo.sh to reuse")
    return subprocess.run(
        ["bash", str(e2e.EXAMPLES / "demo.sh")],
        env=fresh_env(AMP_DEST_VENV=str(venv), AMP_DEST_HOME=str(home)),
        capture_output=True,
        text=True,
        timeout=e2e.PROCESS_TIMEOUT,
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    home = tmp_path_factory.mktemp("demo-home")
    return run_demo(home), home


def printed_commands(stdout: str) -> list[list[str]]:
    """The commands the demo printed after "$ ", as a shell splits them."""
    return [shlex.split(line[2:]) for line in stdout.splitlines() if line.startswith("$ ")]


def shown_run(home: Path, run_id: int) -> dict:
    completed = subprocess.run(
        [str(Path(sys.prefix) / "bin" / "amp-dest"), "runs", "show", str(run_id), "--json"],
        env=fresh_env(AMP_DEST_HOME=str(home)),
        capture_output=True,
        text=True,
        timeout=e2e.PROCESS_TIMEOUT,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def test_demo_completes_the_main_job(demo):
    completed, _ = demo
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "== setting up" not in completed.stdout
    assert "Traceback" not in completed.stdout + completed.stderr
    # The credential comes from an authorization, not a preset token, and the
    # destination from the advertisers and event sets the account lists.
    assert "authorized credential tiktok-demo" in completed.stdout
    assert "emulator-token" not in completed.stdout
    assert "emulator-secret" not in completed.stdout + completed.stderr
    assert "7000000000000000001  Emulator advertiser (7000000000000000001)" in completed.stdout
    assert "7100000000000000001  Store sales (7100000000000000001)" in completed.stdout
    assert "connection test passed for tiktok-store-sales" in completed.stdout
    assert "applied: auto tracking turned on for event set" in completed.stdout
    assert "connection test for tiktok-store-sales: passed" in completed.stdout
    assert "verdict: ready: every test event was accepted" in completed.stdout
    assert "1,200 rows read, 1,156 delivered, 44 rejected, 0 pending" in completed.stdout


def test_demo_leaves_a_rejects_file_in_its_home(demo):
    completed, home = demo
    found = re.search(r"rejects file: (\S+)", completed.stdout)
    assert found, completed.stdout
    rejects = Path(found.group(1))
    assert rejects.is_file()
    assert rejects.is_relative_to(home)
    assert len(rejects.read_text(encoding="utf-8").splitlines()) == 1 + 44


def test_demo_lists_the_run(demo):
    completed, _ = demo
    listing = completed.stdout.split(" runs list\n", 1)[1].splitlines()
    assert listing[0].split() == [
        "ID",
        "DESTINATION",
        "KIND",
        "STATUS",
        "STARTED",
        "READ",
        "DELIVERED",
        "REJECTED",
        "SKIPPED",
        "PENDING",
    ]
    row = listing[1].split()
    assert row[:4] == ["2", "tiktok-store-sales", "send", "succeeded"]
    assert row[-5:] == ["1,200", "1,156", "44", "0", "0"]
    validated = listing[2].split()  # the sample's 20 test events: delivered, never counted
    assert validated[:4] == ["1", "tiktok-store-sales", "validation", "succeeded"]
    assert validated[-5:] == ["1,200", "20", "44", "0", "0"]


def test_demo_stops_its_emulator(demo):
    completed, home = demo
    assert "\n== emulator stopped\n" in completed.stdout
    address = urlsplit((home / "emulator.url").read_text().strip())
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((address.hostname, address.port), timeout=5).close()
    assert "stopped" in (home / "emulator.log").read_text()


def test_demo_prints_the_send_it_really_runs(demo):
    completed, home = demo
    commands = printed_commands(completed.stdout)
    validate, send = [c for c in commands if c[1:3] == ["send", "tiktok-store-sales"]]
    assert "--validate" in validate and "--validate" not in send
    (refresh,) = [c for c in commands if "--refresh" in c]
    # The copy with refreshed timestamps, made by the printed command, is what was sent.
    assert send[3] == "--input" and send[4] == refresh[refresh.index("--out") + 1]
    assert shown_run(home, 2)["input"] == send[4] == validate[4]
    assert Path(send[4]).is_relative_to(home)


def test_the_printed_commands_run_again_as_printed(demo):
    completed, _ = demo
    lines = [line for line in completed.stdout.splitlines() if line.startswith("$ ")]
    # Where it ran, the environment it set and its last command: the same listing again.
    replay = [line[2:] for line in lines if line.startswith(("$ cd ", "$ export "))]
    replay.append(lines[-1][2:])
    assert lines[-1].endswith(" runs list")
    again = subprocess.run(
        ["bash", "-euc", "\n".join(replay)],
        env=fresh_env(),
        capture_output=True,
        text=True,
        timeout=e2e.PROCESS_TIMEOUT,
    )
    assert again.returncode == 0, again.stderr
    printed = completed.stdout.split(lines[-1] + "\n", 1)[1]
    assert printed.startswith(again.stdout)


def test_demo_ends_with_the_command_that_shows_its_state(demo):
    completed, home = demo
    *_, says, last = completed.stdout.splitlines()
    assert says.startswith(f"== the demo's state stays in {home} ")
    shown = subprocess.run(
        ["bash", "-euc", last],
        cwd=home,  # any folder: the command names where amp-dest is
        env=fresh_env(),
        capture_output=True,
        text=True,
        timeout=e2e.PROCESS_TIMEOUT,
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[1].split()[:4] == [
        "2",
        "tiktok-store-sales",
        "send",
        "succeeded",
    ]
    kept = {path.name for path in home.iterdir()}
    assert {"amp-destinations.sqlite3", "runs", "events.csv", "emulator.log"} <= kept


def test_demo_run_again_in_its_home_skips_what_it_sent(demo):
    _, home = demo
    again = run_demo(home)
    assert again.returncode == 0, again.stdout + again.stderr
    # The new emulator knows no earlier token: the credential is renewed there.
    assert "holds it from an earlier demo" in again.stdout
    assert "reauthorized credential tiktok-demo" in again.stdout
    # The sent-events index has the first demo's events: none is sent again.
    assert (
        "run 4 succeeded: 1,200 rows read, 0 delivered, 44 rejected, "
        "1,156 already sent (skipped), 0 pending"
    ) in again.stdout
    assert shown_run(home, 4)["status"] == "succeeded"
