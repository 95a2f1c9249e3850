"""``amp-dest console`` as an operator starts it: a real server on 127.0.0.1 at a free
port, its address printed with a one-time token, Ctrl-C to stop; and its one-line
errors."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from cli_support import console_env, start_console, stop_console

from amp_destinations._cli import build_cli


def test_the_console_serves_on_a_free_loopback_port_with_a_one_time_token(tmp_path):
    process, url = start_console(tmp_path)
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
        assert stop_console(process) == 0


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
