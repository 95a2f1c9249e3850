"""The README's main job, ``examples/demo.sh``, run as an operator would run it, reusing
this environment (``AMP_DEST_VENV``) instead of building a virtual environment."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import e2e_support as e2e

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    venv = Path(sys.prefix)
    if not (venv / "bin" / "amp-dest").exists():
        # The script would build a virtual environment from the network: not in a test.
        pytest.skip(f"{venv} has no amp-dest script for demo.sh to reuse")
    home = tmp_path_factory.mktemp("demo-home")
    env = {key: value for key, value in os.environ.items() if not key.startswith("AMP_DEST_")}
    env.update(
        AMP_DEST_VENV=str(venv),
        AMP_DEST_HOME=str(home),
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
    )
    completed = subprocess.run(
        ["bash", str(e2e.EXAMPLES / "demo.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=e2e.PROCESS_TIMEOUT,
    )
    return completed, home


def test_demo_completes_the_main_job(demo):
    completed, _ = demo
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "== setting up" not in completed.stdout
    assert "Traceback" not in completed.stdout + completed.stderr
    assert "connection test passed for tiktok-store-sales" in completed.stdout
    assert "applied: auto tracking turned on for event set" in completed.stdout
    assert "connection test for tiktok-store-sales: passed" in completed.stdout
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
    listing = completed.stdout.split("== amp-dest runs list\n", 1)[1].splitlines()
    assert listing[0].split() == [
        "ID",
        "DESTINATION",
        "STATUS",
        "STARTED",
        "READ",
        "DELIVERED",
        "REJECTED",
        "PENDING",
    ]
    row = listing[1].split()
    assert row[:3] == ["1", "tiktok-store-sales", "succeeded"]
    assert row[-4:] == ["1,200", "1,156", "44", "0"]


def test_demo_stops_its_emulator(demo):
    completed, home = demo
    assert completed.stdout.rstrip().endswith("== emulator stopped")
    address = urlsplit((home / "emulator.url").read_text().strip())
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((address.hostname, address.port), timeout=5).close()
    assert "stopped" in (home / "emulator.log").read_text()
