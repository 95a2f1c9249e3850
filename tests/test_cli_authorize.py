"""``amp-dest credentials authorize`` and ``reauthorize`` with the throw-away Larch plugin
and its provider on 127.0.0.1 (oauth_support): the loopback listener with the test as
the browser (``webbrowser.open`` replaced), ``--no-browser`` with a pasted address or a
bare code, each refusal one line and exit 1, and the renewal hint wherever a refused
token is reported (save, test, send)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import webbrowser
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import keyring.backends.fail
import pytest
from click.testing import CliRunner

from amp_destinations import _cli_support
from amp_destinations.cli import build_cli

sys.path.insert(0, str(Path(__file__).parent))
from oauth_support import CLIENT_ID, CLIENT_SECRET, Browser

SECRETS = json.dumps({"client_secret": CLIENT_SECRET})
ELSEWHERE = "https://app.example/larch/callback"


@pytest.fixture
def amp_dest(larch_registry):
    """``amp-dest ARGS...`` with the Larch plugin; stdout and stderr apart."""
    cli = build_cli(larch_registry)

    def run(*args, input=None, env=None):
        return CliRunner().invoke(cli, list(args), input=input, env=env, catch_exceptions=False)

    return run


@pytest.fixture
def browser(monkeypatch):
    """The person at the browser that ``webbrowser.open`` starts."""
    person = Browser()
    monkeypatch.setattr(webbrowser, "open", person)
    return person


def authorize_args(provider, *extra, name="larch"):
    return (
        "credentials",
        "authorize",
        name,
        "--type",
        "larch-oauth",
        "--set",
        f"client_id={CLIENT_ID}",
        "--set",
        f"base_url={provider.url}",
        *extra,
    )


def one_line_error(result, *words):
    """The last line of stderr: the error, saying what is wrong (``words``)."""
    assert result.exit_code == 1, result.output
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("amp-dest: error: ") and "Traceback" not in result.stderr
    for word in words:
        assert word in line
    return line


def approved_elsewhere(provider, decision="approve", state="any"):
    """The address Larch sends the browser to for an app registered at ELSEWHERE."""
    query = urlencode({"client_id": CLIENT_ID, "redirect_uri": ELSEWHERE, "state": state})
    return Browser(decision).approve(f"{provider.url}/oauth/authorize?{query}")


def test_authorize_through_the_loopback_listener(amp_dest, larch, browser):
    result = amp_dest(*authorize_args(larch, "--secrets-stdin"), input=SECRETS)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "authorized credential larch",
        "larch  type: larch-oauth",
        f"    base_url: {larch.url}",
        f"    client_id: {CLIENT_ID}",
        "    access_token: set (keyring)",
        "    client_secret: set (keyring)",
        "    facts:",
        '        account_ids: ["acc-1", "acc-2"]',
        '        scopes: ["events:write", "accounts:read"]',
    ]
    assert browser.opened[0] in result.stderr  # the page's address, should no browser open
    assert browser.landed == 200
    shown = json.loads(amp_dest("credentials", "show", "larch", "--json").stdout)
    assert shown["facts"] == {
        "account_ids": ["acc-1", "acc-2"],
        "scopes": ["events:write", "accounts:read"],
    }


def test_authorize_json_prints_the_result_alone(amp_dest, larch, browser):
    larch.scopes = ["accounts:read"]
    result = amp_dest(*authorize_args(larch, "--secrets-stdin", "--json"), input=SECRETS)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["credential"]["secrets"] == {"access_token": "keyring", "client_secret": "keyring"}
    assert data["warnings"] == ["Larch did not grant events:write"]
    assert "amp-dest: warning: Larch did not grant events:write" in result.stderr


def test_the_app_secret_is_prompted_hidden_on_a_terminal(
    amp_dest, larch, browser, monkeypatch, memory_keyring
):
    monkeypatch.setattr(_cli_support, "stdin_is_interactive", lambda: True)
    result = amp_dest(*authorize_args(larch), input=CLIENT_SECRET + "\n")
    assert result.exit_code == 0, result.output
    assert "client_secret (hidden)" in result.output and CLIENT_SECRET not in result.output
    assert memory_keyring.entries[("amp-destinations", "larch/client_secret")] == CLIENT_SECRET


def test_the_app_secret_may_come_from_its_environment_variable(amp_dest, larch, browser):
    env = {"AMP_DEST_SECRET_LARCH_CLIENT_SECRET": CLIENT_SECRET}
    result = amp_dest(*authorize_args(larch, "--json"), env=env)
    assert result.exit_code == 0, result.output
    secrets = json.loads(result.stdout)["credential"]["secrets"]
    assert secrets == {"access_token": "keyring", "client_secret": "environment"}


def test_without_a_terminal_or_stdin_the_app_secret_is_asked_for_in_one_line(amp_dest, larch):
    line = one_line_error(amp_dest(*authorize_args(larch)), "client_secret is a secret")
    assert "--secrets-stdin" in line and "AMP_DEST_SECRET_LARCH_CLIENT_SECRET" in line


def test_no_browser_with_a_bare_code(amp_dest, larch, memory_keyring):
    code = parse_qs(urlsplit(approved_elsewhere(larch)).query)["code"][0]
    result = amp_dest(
        *authorize_args(larch, "--no-browser", "--redirect-uri", ELSEWHERE, "--secrets-stdin"),
        input=f"{SECRETS}\n{code}\n",
    )
    assert result.exit_code == 0, result.output
    assert "Open this page in a browser and approve:" in result.stderr
    assert f"redirect_uri={ELSEWHERE.replace(':', '%3A').replace('/', '%2F')}" in result.stderr
    assert larch.exchanges[0]["redirect_uri"] == ELSEWHERE
    assert ("amp-destinations", "larch/access_token") in memory_keyring.entries


@pytest.mark.parametrize(
    "pasted, words",
    [
        (lambda larch: approved_elsewhere(larch, state="forged"), ["state does not match"]),
        (lambda larch: "", ["nothing was pasted"]),
        (lambda larch: "not a code at all", ["neither the address"]),
        (lambda larch: f"{ELSEWHERE}?state=x", ["carries no 'code'"]),
    ],
    ids=["wrong state", "nothing", "words", "no code"],
)
def test_no_browser_refusals_are_one_line(amp_dest, larch, pasted, words):
    result = amp_dest(
        *authorize_args(larch, "--no-browser", "--redirect-uri", ELSEWHERE, "--secrets-stdin"),
        input=f"{SECRETS}\n{pasted(larch)}\n",
    )
    one_line_error(result, *words)
    assert larch.exchanges == []


def test_a_denied_authorization_is_one_line(amp_dest, larch, monkeypatch):
    monkeypatch.setattr(webbrowser, "open", Browser(decision="deny"))
    result = amp_dest(*authorize_args(larch, "--secrets-stdin"), input=SECRETS)
    one_line_error(result, "the authorization was denied (access_denied: The user said no)")
    assert amp_dest("credentials", "list", "--json").stdout.strip() == "[]"


def test_a_wrong_state_at_the_listener_is_one_line(amp_dest, larch, monkeypatch):
    monkeypatch.setattr(webbrowser, "open", Browser(state="forged"))
    result = amp_dest(*authorize_args(larch, "--secrets-stdin"), input=SECRETS)
    one_line_error(result, "state does not match", "start the authorization again")


def test_a_refused_exchange_is_one_line_without_the_secret(amp_dest, larch, browser):
    result = amp_dest(
        *authorize_args(larch, "--secrets-stdin"), input='{"client_secret": "wrong-secret-123"}'
    )
    one_line_error(result, "Larch refused the app's client id or secret")
    assert "wrong-secret-123" not in result.output


def test_no_approval_in_time_is_one_line(amp_dest, larch, monkeypatch):
    opened = []
    monkeypatch.setattr(webbrowser, "open", opened.append)  # nobody approves
    result = amp_dest(*authorize_args(larch, "--secrets-stdin", "--timeout", "1"), input=SECRETS)
    one_line_error(result, "no authorization arrived within 1 second;")
    assert len(opened) == 1


def test_a_type_without_a_flow_says_how_to_add_it(amp_dest):
    result = amp_dest("credentials", "authorize", "hooks", "--type", "bearer-token")
    one_line_error(
        result,
        "declares no authorization flow",
        "`amp-dest credentials add NAME --type bearer-token`",
    )


def test_a_taken_name_is_refused_before_the_secret_is_read(amp_dest, larch, browser):
    assert amp_dest(*authorize_args(larch, "--secrets-stdin"), input=SECRETS).exit_code == 0
    result = amp_dest(*authorize_args(larch))  # would ask for the secret: stdin is no terminal
    one_line_error(result, "a credential named 'larch' exists")


def test_the_listener_stops_on_ctrl_c(amp_dest, larch, monkeypatch):
    def interrupted(url):
        raise KeyboardInterrupt

    monkeypatch.setattr(webbrowser, "open", interrupted)
    result = amp_dest(*authorize_args(larch, "--secrets-stdin"), input=SECRETS)
    assert result.exit_code == 130
    assert result.stderr.splitlines()[-1] == "amp-dest: interrupted"


# -- a refused token, and reauthorizing -------------------------------------------------


def test_a_refused_token_names_reauthorize_for_save_test_and_send(
    amp_dest, larch, browser, tmp_path
):
    assert amp_dest(*authorize_args(larch, "--secrets-stdin"), input=SECRETS).exit_code == 0
    add = ("destinations", "add", "events", "--type", "larch-events", "--credential", "larch")
    chosen = ("--set", "account_id=acc-1", "--set", "list_id=L-10")
    assert amp_dest(*add, *chosen).exit_code == 0
    rows = tmp_path / "rows.csv"
    rows.write_text("id\n1\n2\n")
    assert amp_dest("send", "events", "--input", str(rows)).exit_code == 0
    renew = "the remote system refused credential 'larch': renew it with "
    renew += "`amp-dest credentials reauthorize larch`"

    larch.revoke_all()
    saved = amp_dest(*add[:2], "other", *add[3:], *chosen)
    assert one_line_error(saved).endswith(f"nothing was saved; {renew}")
    tested = amp_dest("destinations", "test", "events")
    assert tested.exit_code == 1
    assert tested.stderr == f"amp-dest: error: {renew}\n"
    sent = amp_dest("send", "events", "--input", str(rows))
    assert one_line_error(sent).endswith(
        f"Larch refused the token; {renew}, then resume with `amp-dest send --resume 2`"
    )

    renewed = amp_dest("credentials", "reauthorize", "larch")
    assert renewed.exit_code == 0, renewed.output
    assert renewed.stdout.startswith("reauthorized credential larch\n")
    assert amp_dest("destinations", "test", "events").exit_code == 0
    resumed = amp_dest("send", "--resume", "2")
    assert resumed.exit_code == 0, resumed.output
    assert [event["id"] for event in larch.events] == ["1", "2", "1", "2"]


def test_reauthorize_json_prints_the_renewed_credential_alone(amp_dest, larch, browser):
    assert amp_dest(*authorize_args(larch, "--secrets-stdin"), input=SECRETS).exit_code == 0
    renewed = amp_dest("credentials", "reauthorize", "larch", "--json")
    assert renewed.exit_code == 0, renewed.output
    data = json.loads(renewed.stdout)
    assert data["credential"]["name"] == "larch"
    assert data["credential"]["facts"]["account_ids"] == ["acc-1", "acc-2"]


def test_a_refused_token_of_a_type_without_a_flow_is_not_told_to_reauthorize(configured):
    run = configured
    run("credentials", "update", "cred", "--secrets-stdin", input='{"token": "refused"}')
    tested = run("destinations", "test", "rec")
    assert tested.exit_code == 1 and "reauthorize" not in tested.output
    saved = run("destinations", "update", "rec", "--set", "label=two")
    assert "(use --no-test to save anyway)" in saved.output and "reauthorize" not in saved.output


def test_reauthorize_may_replace_the_app_secret_when_asked(
    amp_dest, larch, browser, monkeypatch, memory_keyring
):
    assert amp_dest(*authorize_args(larch, "--secrets-stdin"), input=SECRETS).exit_code == 0
    monkeypatch.setattr(_cli_support, "stdin_is_interactive", lambda: True)
    result = amp_dest(
        "credentials", "reauthorize", "larch", "--secret", "client_secret", input="bad-secret-99\n"
    )
    one_line_error(result, "Larch refused the app's client id or secret")
    assert memory_keyring.entries[("amp-destinations", "larch/client_secret")] == CLIENT_SECRET


def test_reauthorize_of_an_unknown_credential_is_one_line(amp_dest):
    one_line_error(amp_dest("credentials", "reauthorize", "nobody"), "no credential named 'nobody'")


# -- the real thing: a process, its pipes, a person pasting -----------------------------


@pytest.mark.e2e
def test_no_browser_in_a_script_reads_the_secret_then_the_pasted_address(larch, tmp_path, home):
    """amp-dest in its own process, its stdin a pipe: the secrets' JSON on the first
    line, then, once the page's address is printed, the address the browser was sent to."""
    plugins = tmp_path / "plugins"
    plugins.mkdir(mode=0o755)
    (plugins / "larch_plugin.py").write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from oauth_support import LarchPlugin\n"
        "_plugin = LarchPlugin()\n"
        "register_credential_types = _plugin.register_credential_types\n"
        "register_destinations = _plugin.register_destinations\n"
    )
    env = {
        **os.environ,
        "AMP_DEST_HOME": str(home),
        "PYTHON_KEYRING_BACKEND": "amp_destinations.testing.MemoryKeyring",
    }
    command = [sys.executable, "-m", "amp_destinations", "--plugins-dir", str(plugins)]
    process = subprocess.Popen(
        [*command, *authorize_args(larch, "--no-browser", "--secrets-stdin", "--json")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        process.stdin.write(SECRETS + "\n")
        process.stdin.flush()
        url = None
        for line in process.stderr:  # ends at the latest when the process does
            if line.startswith(f"  {larch.url}/oauth/authorize?"):
                url = line.strip()
                break
        assert url, "the page's address was not printed"
        stdout, stderr = process.communicate(Browser().approve(url) + "\n", timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stderr
    credential = json.loads(stdout)["credential"]
    assert credential["secrets"] == {"access_token": "keyring", "client_secret": "keyring"}
    assert credential["facts"]["account_ids"] == ["acc-1", "acc-2"]
    assert CLIENT_SECRET not in stdout + stderr + url


def test_no_usable_keyring_is_said_before_the_secret_is_asked_for(amp_dest, larch, monkeypatch):
    keyring.set_keyring(keyring.backends.fail.Keyring())  # the autouse fixture restores it
    monkeypatch.setattr(_cli_support, "stdin_is_interactive", lambda: True)
    monkeypatch.setattr(webbrowser, "open", pytest.fail)
    result = amp_dest(*authorize_args(larch), input=CLIENT_SECRET + "\n")
    one_line_error(result, "no usable keyring backend")
    assert "(hidden)" not in result.output
