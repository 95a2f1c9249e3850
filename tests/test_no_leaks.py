"""Secrets and PII never leak: not into output, log records, the database, run files."""

from __future__ import annotations

import logging
import sys
import webbrowser
from pathlib import Path

import pytest
from click.testing import CliRunner

import amp_destinations as amp
from amp_destinations.cli import build_cli

sys.path.insert(0, str(Path(__file__).parent))
from oauth_support import CLIENT_SECRET, Browser

SECRET = "tok-7f3a9c-DO-NOT-LEAK"
EMAIL = "private.person@example.com"


def recording(cli):
    """``amp-dest`` through click's CliRunner, every output kept for the leak checks."""
    runner = CliRunner()
    outputs: list[str] = []

    def run(*args, input=None):
        result = runner.invoke(cli, list(args), input=input)
        outputs.append(result.output)
        return result

    return run, outputs


@pytest.fixture
def recorded(cli):
    return recording(cli)


def test_a_secret_appears_nowhere(recorded, home, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    run, outputs = recorded

    assert (
        run(
            "credentials",
            "add",
            "cred",
            "--type",
            "echo-token",
            "--secrets-stdin",
            input=f'{{"token": "{SECRET}"}}',
        ).exit_code
        == 0
    )
    # the recorder's connection test passes only for "good"; the secret must not leak either way
    run(
        "destinations",
        "add",
        "bad",
        "--type",
        "recorder",
        "--credential",
        "cred",
        "--set",
        "label=x",
    )
    run("credentials", "update", "cred", "--secrets-stdin", input='{"token": "good"}')
    run(
        "destinations",
        "add",
        "rec",
        "--type",
        "recorder",
        "--credential",
        "cred",
        "--set",
        "label=x",
    )
    run("credentials", "update", "cred", "--secrets-stdin", input=f'{{"token": "{SECRET}"}}')
    csv_path = tmp_path / "in.csv"
    csv_path.write_text(f"id,email\nE1,{EMAIL}\nE2,\n")
    for args in (
        ["credentials", "list"],
        ["credentials", "list", "--json"],
        ["credentials", "show", "cred"],
        ["credentials", "show", "cred", "--json"],
        ["destinations", "list", "--json"],
        ["destinations", "show", "rec", "--json"],
        ["destinations", "test", "rec"],
        ["destinations", "test", "rec", "--json"],
        ["destinations", "schema", "recorder"],
        ["destinations", "schema", "recorder", "--json"],
        ["plugins", "list", "--json"],
        ["send", "rec", "--input", str(csv_path)],
        ["send", "rec", "--input", str(csv_path), "--dry-run", "--json"],
        ["runs", "list", "--json"],
        ["runs", "show", "1", "--json"],
        ["runs", "show", "2"],
    ):
        run(*args)

    assert SECRET not in "".join(outputs)
    assert all(SECRET not in record.getMessage() for record in caplog.records)
    for path in home.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert SECRET.encode() not in data, f"secret found in {path}"
            # A dry run writes the exact bodies the destination would send, by request;
            # this test plugin does not hash, so only those files may hold the email.
            if "requests" not in path.parts:
                assert EMAIL.encode() not in data, f"raw email found in {path}"


PASSWORD = "pw-8c1e-DO-NOT-LEAK"


def test_a_password_in_a_url_is_refused_and_appears_nowhere(recorded, home, registry, caplog):
    caplog.set_level(logging.DEBUG)
    run, outputs = recorded

    assert (
        run(
            "credentials",
            "add",
            "hooks",
            "--type",
            "bearer-token",
            "--secrets-stdin",
            input='{"token": "t"}',
        ).exit_code
        == 0
    )
    userinfo_url = f"https://ops:{PASSWORD}@127.0.0.1:9/in"
    for type_name, sets in (
        ("webhook", [f"url={userinfo_url}"]),
        ("webhook", ["url=https://127.0.0.1:9/in", f"test_url={userinfo_url}"]),
        ("recorder", [f"label={userinfo_url}"]),
    ):  # a plain String field, not a SecureUrl
        credential = "hooks" if type_name == "webhook" else "cred"
        if type_name == "recorder":
            run(
                "credentials",
                "add",
                "cred",
                "--type",
                "echo-token",
                "--secrets-stdin",
                input='{"token": "good"}',
            )
        args = ["destinations", "add", "d", "--type", type_name, "--credential", credential]
        for assignment in sets:
            args += ["--set", assignment]
        for extra in ([], ["--no-test"]):
            result = run(*args, *extra)
            assert result.exit_code == 1
            assert "must not carry a user name or password" in result.output
    with amp.Host(home, registry=registry) as host:
        with pytest.raises(amp.InvalidFieldsError) as caught:
            host.add_destination("d", "webhook", "hooks", {"url": userinfo_url}, test=False)
        assert PASSWORD not in str(caught.value)
        assert host.destinations() == []
    run("destinations", "list", "--json")

    assert PASSWORD not in "".join(outputs)
    assert all(PASSWORD not in record.getMessage() for record in caplog.records)
    for path in home.rglob("*"):  # the database, its -wal and -shm
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), f"password found in {path}"


def test_a_url_an_older_release_stored_is_never_shown_and_can_be_fixed(cli, host):
    host.add_credential("hooks", "bearer-token", secrets={"token": "t"})
    host.store.insert_destination(
        "hook", "webhook", "hooks", {"url": f"https://ops:{PASSWORD}@127.0.0.1:9/in"}
    )
    runner = CliRunner()
    listed = runner.invoke(cli, ["destinations", "list", "--json"])
    assert "https://[redacted]@127.0.0.1:9/in" in listed.output
    shown = runner.invoke(cli, ["destinations", "show", "hook"])
    assert shown.exit_code == 1
    assert "url: must not carry a user name or password" in shown.output
    fixed = runner.invoke(
        cli, ["destinations", "update", "hook", "--no-test", "--set", "url=https://127.0.0.1:9/in"]
    )
    assert fixed.exit_code == 0, fixed.output
    shown = runner.invoke(cli, ["destinations", "show", "hook"])
    assert "url: https://127.0.0.1:9/in" in shown.output
    assert PASSWORD not in listed.output + shown.output + fixed.output


def test_an_authorization_leaves_its_secrets_nowhere(
    larch_registry, larch, home, caplog, monkeypatch, tmp_path
):
    """The app secret and every token the provider issued: not in any output, log
    record, file under the home, or the address handed to the browser (its argv)."""
    caplog.set_level(logging.DEBUG)
    run, outputs = recording(build_cli(larch_registry))
    browser = Browser()
    monkeypatch.setattr(webbrowser, "open", browser)
    secrets = f'{{"client_secret": "{CLIENT_SECRET}"}}'
    authorize = ("credentials", "authorize", "larch", "--type", "larch-oauth")
    app = ("--set", "client_id=larch-app-1", "--set", f"base_url={larch.url}")
    assert run(*authorize, *app, "--secrets-stdin", input=secrets).exit_code == 0
    rows = tmp_path / "rows.csv"
    rows.write_text("id\n1\n")
    options = ("destinations", "options", "larch-events")
    for args in (
        ["credentials", "show", "larch"],
        ["credentials", "show", "larch", "--json"],
        ["credentials", "list", "--json"],
        [*options, "account_id", "--credential", "larch", "--json"],
        [*options, "list_id", "--credential", "larch", "--set", "account_id=acc-1"],
        ["destinations", "add", "ev", "--type", "larch-events", "--credential", "larch",
         "--set", "account_id=acc-1", "--set", "list_id=L-10"],
        ["send", "ev", "--input", str(rows)],
    ):  # fmt: skip
        assert run(*args).exit_code == 0, outputs[-1]
    larch.revoke_all()
    for args in (["destinations", "test", "ev"], ["send", "ev", "--input", str(rows)]):
        assert run(*args).exit_code == 1
    assert run("credentials", "reauthorize", "larch", "--json").exit_code == 0
    wrong = run(
        "credentials", "reauthorize", "larch", "--secrets-stdin", input=secrets[:-2] + 'x"}'
    )
    assert wrong.exit_code == 1

    leaks = [CLIENT_SECRET, *larch.tokens]
    assert len(leaks) == 3  # the app secret, the first token and the renewed one
    for secret in leaks:
        assert secret not in "".join(outputs)
        assert all(secret not in record.getMessage() for record in caplog.records)
        assert all(secret not in url for url in browser.opened)
        for path in home.rglob("*"):
            if path.is_file():
                assert secret.encode() not in path.read_bytes(), f"secret found in {path}"
