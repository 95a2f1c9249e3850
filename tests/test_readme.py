"""The README's walk-through and Python API example run as written, on a machine as
fresh as CI's (no keyring backend, no AMP_DEST_ variable, a new home), against the TikTok
emulator. The README starts the emulator on port 8765; the test starts it on a free port
of 127.0.0.1 instead and puts that address where the README has the documented one."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tiktok_ads_events.emulator import Emulator

sys.path.insert(0, str(Path(__file__).parent))
from doc_support import blocks

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
WALK_THROUGH = "Try it against the TikTok emulator"
DOCUMENTED = "http://127.0.0.1:8765"  # where the README starts the emulator
EVENT_SET_ID = "7100000000000000001"  # the emulator's seeded offline event set
TIMEOUT = 120


@pytest.fixture
def emulator():
    with Emulator() as emulator:
        yield emulator


@pytest.fixture
def fresh(tmp_path):
    """A folder to run in, with the checkout's .venv and examples, and the environment
    of a fresh headless machine."""
    cwd = tmp_path / "checkout"
    cwd.mkdir()
    (cwd / ".venv").symlink_to(sys.prefix, target_is_directory=True)
    (cwd / "examples").symlink_to(ROOT / "examples", target_is_directory=True)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AMP_DEST_", "PYTHON_KEYRING", "VIRTUAL_ENV"))
    }
    env.update(
        AMP_DEST_HOME=str(tmp_path / "home"),
        TMPDIR=str(tmp_path),
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",  # no keyring to store in
    )
    return cwd, env


def on(emulator: Emulator, code: str) -> str:
    assert DOCUMENTED in code, f"the example does not use the emulator at {DOCUMENTED}"
    return code.replace(DOCUMENTED, emulator.base_url)


def run(args, fresh, **kwargs):
    cwd, env = fresh
    completed = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT, **kwargs
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "Traceback" not in completed.stderr
    return completed.stdout


def python_example(emulator: Emulator, fresh) -> str:
    (example,) = blocks(README.read_text(), section="Python API")
    # Compiled as README.md, at its lines there, so that a traceback points into it.
    runner = "import sys; exec(compile(sys.stdin.read(), 'README.md', 'exec'))"
    return run([sys.executable, "-c", runner], fresh, input=on(emulator, example.at_its_lines()))


def test_the_walk_through_starts_the_emulator_where_its_commands_expect_it():
    start, _ = blocks(README.read_text(), "sh", section=WALK_THROUGH)
    assert "python -m tiktok_ads_events.emulator --port 8765" in start.code


def test_the_walk_through_runs_as_written(emulator, fresh):
    _, steps = blocks(README.read_text(), "sh", section=WALK_THROUGH)
    output = run(["bash", "-euo", "pipefail", "-c", on(emulator, steps.code)], fresh)
    assert "refresh_token: set (environment)" in output
    assert "connection test for store-sales: passed" in output
    assert "1,200 rows read, 1,156 delivered, 44 rejected, 0 pending" in output
    assert emulator.state.event_count(EVENT_SET_ID) == 1156


def test_every_destinations_add_in_the_readme_is_the_one_the_walk_through_runs():
    text = README.read_text()
    commands = {
        " ".join(command.replace("\\\n", " ").split())
        for block in blocks(text, "sh")
        for command in re.findall(r"^amp-dest destinations add (?:.*\\\n)*.*$", block.code, re.M)
    }
    assert len(commands) == 1, commands
    assert f"--set api_base_url={DOCUMENTED}" in commands.pop()


def test_the_python_example_runs_as_written_and_again(emulator, fresh):
    for delivered, already_sent in ((1, 0), (0, 1)):
        assert python_example(emulator, fresh).splitlines() == [
            "True",
            "validation True",
            f"succeeded {delivered} {already_sent} ['succeeded']",
        ]
    # Sent once: the second run found the event in the sent-events index. The
    # validation runs' test events are kept apart and count for nothing.
    assert emulator.state.event_count(EVENT_SET_ID) == 1
    assert len(emulator.state.test_events(EVENT_SET_ID)) == 2
    assert emulator.state.duplicates == 0


def test_the_python_example_runs_after_the_walk_through(emulator, fresh):
    _, steps = blocks(README.read_text(), "sh", section=WALK_THROUGH)
    run(["bash", "-euo", "pipefail", "-c", on(emulator, steps.code)], fresh)
    assert python_example(emulator, fresh).splitlines()[0] == "True"
