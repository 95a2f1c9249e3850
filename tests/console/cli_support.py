"""``amp-dest console`` started as an operator starts it: a subprocess with its own home
and a keyring that keeps secrets between processes (keyrings.alt's file backend, which
the host allows on a test machine that opts in), its address read from what it prints."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

URL = re.compile(r"(http://127\.0\.0\.1:(\d+)/\?token=[\w-]+)")
START_SECONDS = 30.0


def console_env(tmp_path: Path) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AMP_DEST_")}
    env.update(
        AMP_DEST_HOME=str(tmp_path / "home"),
        PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring",
        AMP_DEST_ALLOW_INSECURE_KEYRING="1",
        XDG_DATA_HOME=str(tmp_path / "keyring"),
        BROWSER="true",  # no real browser is ever opened
    )
    return env


def start_console(tmp_path: Path, *args: str) -> tuple[subprocess.Popen, str]:
    """The console process and the address it printed (with its token)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "amp_destinations", "console", "--no-browser", *args],
        env=console_env(tmp_path),
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + START_SECONDS
    lines = []
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        lines.append(line)
        found = URL.search(line)
        if found:
            return process, found.group(1)
        if not line and process.poll() is not None:
            break
    process.kill()
    process.wait()
    raise AssertionError("the console printed no address: " + "".join(lines))


def stop_console(process: subprocess.Popen) -> int:
    """Ctrl-C, as the operator stops it; its exit code."""
    process.send_signal(signal.SIGINT)
    try:
        return process.wait(START_SECONDS)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
