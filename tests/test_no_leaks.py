"""Secrets and PII never leak: not into output, log records, the database, run files."""

from __future__ import annotations

import logging

from click.testing import CliRunner

SECRET = "tok-7f3a9c-DO-NOT-LEAK"
EMAIL = "private.person@example.com"


def test_a_secret_appears_nowhere(cli, home, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    runner = CliRunner()
    outputs = []

    def run(*args, input=None):
        result = runner.invoke(cli, list(args), input=input)
        outputs.append(result.output)
        return result

    assert run("credentials", "add", "cred", "--type", "echo-token", "--secrets-stdin",
               input=f'{{"token": "{SECRET}"}}').exit_code == 0
    # the recorder's connection test passes only for "good"; the secret must not leak either way
    run("destinations", "add", "bad", "--type", "recorder", "--credential", "cred",
        "--set", "label=x")
    run("credentials", "update", "cred", "--secrets-stdin", input='{"token": "good"}')
    run("destinations", "add", "rec", "--type", "recorder", "--credential", "cred",
        "--set", "label=x")
    run("credentials", "update", "cred", "--secrets-stdin", input=f'{{"token": "{SECRET}"}}')
    csv_path = tmp_path / "in.csv"
    csv_path.write_text(f"id,email\nE1,{EMAIL}\nE2,\n")
    for args in (["credentials", "list"], ["credentials", "list", "--json"],
                 ["credentials", "show", "cred"], ["credentials", "show", "cred", "--json"],
                 ["destinations", "list", "--json"], ["destinations", "show", "rec", "--json"],
                 ["destinations", "test", "rec"], ["destinations", "test", "rec", "--json"],
                 ["destinations", "schema", "recorder"], ["plugins", "list", "--json"],
                 ["send", "rec", "--input", str(csv_path)],
                 ["send", "rec", "--input", str(csv_path), "--dry-run", "--json"],
                 ["runs", "list", "--json"], ["runs", "show", "1", "--json"],
                 ["runs", "show", "2"]):
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
