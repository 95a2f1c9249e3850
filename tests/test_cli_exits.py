"""Exit codes the README documents, and output into a pipe whose reader went away."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from amp_destinations import _cli

README = Path(__file__).resolve().parents[1] / "README.md"


def documented_exit_codes() -> set[int]:
    text = README.read_text(encoding="utf-8")
    section = text.split("### Exit codes", 1)[1].split("\n#", 1)[0]
    return {int(code) for code in re.findall(r"^\|\s*(\d+)\s*\|", section, re.MULTILINE)}


def test_every_exit_code_the_cli_uses_is_documented():
    assert set(_cli.EXIT_CODES) | {0, 2} == documented_exit_codes()


def amp_dest_into_a_closed_pipe(home: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the CLI with stdout on a pipe whose read end is already closed, as
    ``amp-dest ... | head -1`` is once head has exited."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    env = {
        **os.environ,
        "AMP_DEST_HOME": str(home),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    try:
        return subprocess.run(
            [sys.executable, "-m", "amp_destinations", *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write_end)


def test_listing_into_a_closed_pipe_ends_quietly(tmp_path):
    completed = amp_dest_into_a_closed_pipe(tmp_path / "home", "plugins", "list")
    assert completed.stderr == ""
    assert completed.returncode == _cli.EXIT_BROKEN_PIPE


def test_a_send_into_a_closed_pipe_still_finishes_and_ends_quietly(tmp_path):
    home = tmp_path / "home"
    out = tmp_path / "out.jsonl"
    source = tmp_path / "in.csv"
    source.write_text("id,email\n1,a@example.com\n2,b@example.com\n")
    env = {**os.environ, "AMP_DEST_HOME": str(home)}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "amp_destinations",
            "destinations",
            "add",
            "out",
            "--type",
            "file",
            "--set",
            f"path={out}",
        ],
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    completed = amp_dest_into_a_closed_pipe(home, "send", "out", "--input", str(source))
    assert completed.stderr == ""
    assert completed.returncode == _cli.EXIT_BROKEN_PIPE
    assert len(out.read_text().splitlines()) == 2
    listing = subprocess.run(
        [sys.executable, "-m", "amp_destinations", "runs", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "succeeded" in listing.stdout
