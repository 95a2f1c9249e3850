"""``amp-dest console`` as an operator starts it: a real server on 127.0.0.1 at a free
port, its address printed with a one-time token, Ctrl-C to stop; and its one-line
errors."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from amp_destinations._cli import build_cli

URL = re.compile(r"(http://127\.0\.0\.1:(\d+)/\?token=[\w-]+)")


def console_env(tmp_path) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AMP_DEST_")}
    env.update(
        AMP_DEST_HOME=str(tmp_path / "home"),
        PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring",
        AMP_DEST_ALLOW_INSECURE_KEYRING="1",
        XDG_DATA_HOME=str(tmp_path / "keyring"),
        BROWSER="true",
    )
    return env


def start(tmp_path, *args: str) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "amp_destinations", "console", "--no-browser", *args],
        env=console_env(tmp_path),
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
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
    raise AssertionError("no address printed: " + "".join(lines))


def test_the_console_serves_on_a_free_loopback_port_with_a_one_time_token(tmp_path):
    process, url = start(tmp_path)
    try:
        base = url.split("/?")[0]
        assert httpx.get(base + "/destinations").status_code == 403
        with httpx.Client(follow_redirects=True) as browser:
            page = browser.get(url)
            assert page.status_code == 200
            assert "Destinations" in page.text
            assert str(page.url) == base + "/destinations"  # the token left the address
        assert httpx.get(url).status_code == 403  # used once
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(30) == 0


def test_a_port_in_use_is_one_line_and_a_non_zero_exit(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "amp_destinations", "console", "--port", str(port)],
            env=console_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    # (after the warning of the test keyring)
    assert done.stderr.strip().splitlines()[-1:] == [
        f"amp-dest: error: cannot listen on 127.0.0.1:{port} (Address already in use): free "
        "that port, or leave --port out for a free one"
    ]


def test_without_the_extra_it_says_how_to_install_it(run, monkeypatch):
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    result = run("console", "--no-browser")
    assert result.exit_code == 1
    assert result.output.strip() == (
        "amp-dest: error: the console is an optional extra: install it with "
        "`pip install 'amp-destinations[console]'`"
    )


def test_help_names_the_console(registry):
    from click.testing import CliRunner

    result = CliRunner().invoke(build_cli(registry), ["--help"])
    assert "console" in result.output


@pytest.fixture
def run(registry):
    from click.testing import CliRunner

    runner = CliRunner()
    cli = build_cli(registry)
    return lambda *args: runner.invoke(cli, list(args))
