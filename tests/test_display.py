"""What a person reads: every command shows booleans, missing values, counts and shares
alike (``_display``), a secret that is optional is not called missing, and an error
made of another one's words reads as one sentence, never parentheses in parentheses."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from marshmallow import Schema, fields

import amp_destinations as amp
from amp_destinations._cli import build_cli

# Python's own spellings, which a person should never have to read.
PYTHON_WORDS = re.compile(r"\b(True|False|None)\b|\[\]|\{\}|'[^']*', '")


class ShownSettings(Schema):
    enabled = fields.Boolean(load_default=True)
    archived = fields.Boolean(load_default=False)
    note = fields.String(load_default=None, allow_none=True)
    tags = fields.List(fields.String(), load_default=lambda: ["a", "b"])


class TwoSecretsSchema(Schema):
    token = amp.Secret(required=True)
    backup = amp.Secret(load_default=None, allow_none=True)


class TwoSecrets(amp.CredentialType):
    name = "two-secrets"
    title = "A required and an optional secret"
    schema = TwoSecretsSchema


class Shown(amp.Destination):
    """Settings of every kind a person reads back; its check's words nest if quoted."""

    name = "shown"
    title = "Shown (tests)"
    credential_type = "two-secrets"
    settings_schema = ShownSettings

    def test_connection(self, session):
        if self.settings["enabled"]:
            return amp.ConnectionStatus([amp.Check.passed("reachable")])
        return amp.ConnectionStatus(
            [
                amp.Check.failed(
                    "reachable",
                    "the remote said no (code 7, request id R1)",
                    "turn it on (enabled=true) and try again.",
                    amp.FailureType.CONFIG,
                )
            ]
        )

    def prepare(self, row, warnings):
        return dict(row)

    def deliver(self, batch, session):
        return amp.BatchOutcome.delivered()


class ShownPlugin:
    __name__ = "shown-plugin"

    @amp.hookimpl
    def register_credential_types(self, register):
        register(TwoSecrets)

    @amp.hookimpl
    def register_destinations(self, register):
        register(Shown)


@pytest.fixture
def shown(home):
    """``amp-dest ARGS...`` with the Shown plugin, its credential ``two`` added."""
    registry = amp.load_plugins(entry_points=False, extra=[ShownPlugin()])
    cli = build_cli(registry)
    runner = CliRunner()

    def invoke(*args, input=None):
        return runner.invoke(cli, list(args), input=input, catch_exceptions=False)

    added = invoke(
        "credentials", "add", "two", "--type", "two-secrets", "--secrets-stdin",
        input='{"token": "t"}',
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    return invoke


def depth(text: str) -> int:
    """How deep parentheses nest in ``text``."""
    deepest = level = 0
    for char in text:
        level += {"(": 1, ")": -1}.get(char, 0)
        deepest = max(deepest, level)
    return deepest


def test_destinations_show_prints_values_as_an_operator_types_them(shown):
    added = shown("destinations", "add", "d", "--type", "shown", "--credential", "two")
    assert added.exit_code == 0, added.output
    output = shown("destinations", "show", "d").output
    assert not PYTHON_WORDS.search(output), output
    for line in ("enabled: true", "archived: false", "note: -", 'tags: ["a", "b"]'):
        assert f"    {line}\n" in output


def test_credentials_tell_a_missing_required_secret_from_an_unset_optional_one(
    shown, memory_keyring
):
    listing = shown("credentials", "list").output
    assert "backup=not set, token=keyring" in listing and "missing" not in listing.lower()
    assert "    backup: not set\n" in shown("credentials", "show", "two").output
    del memory_keyring.entries[("amp-destinations", "two/token")]
    assert "backup=not set, token=MISSING (required)" in shown("credentials", "list").output
    assert "    token: MISSING (required)\n" in shown("credentials", "show", "two").output


def test_the_api_names_the_required_secrets_that_are_not_set(ready_host, memory_keyring):
    assert ready_host.credential("cred").missing_secrets == ()
    del memory_keyring.entries[("amp-destinations", "cred/token")]
    credential = ready_host.credential("cred")
    assert credential.missing_secrets == ("token",)
    assert credential.to_dict()["missing_secrets"] == ("token",)


def test_a_refused_save_is_one_sentence_without_nested_parentheses(shown):
    result = shown(
        "destinations", "add", "d", "--type", "shown", "--credential", "two",
        "--set", "enabled=false",
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.output == (
        "amp-dest: error: connection test failed at 'reachable': the remote said no "
        "(code 7, request id R1); turn it on (enabled=true) and try again; nothing was "
        "saved (use --no-test to save anyway)\n"
    )
    assert depth(result.output) == 1


def rows(count: int, phones: int) -> str:
    lines = ["id,email,phone"]
    lines += [f"E{i},u{i}@example.com,{'555' if i <= phones else ''}" for i in range(1, count + 1)]
    return "\n".join(lines) + "\n"


def test_send_and_runs_show_print_counts_and_shares_alike(configured, tmp_path):
    run = configured
    path = tmp_path / "in.csv"
    path.write_text(rows(1200, phones=863))  # 71.9% of the rows carry a phone with an id
    sent = run("send", "rec", "--input", str(path)).output
    assert "1,200 rows read, 1,200 delivered" in sent
    assert "identifier coverage: email 100%, phone with id 72%" in sent
    shown = run("runs", "show", "1").output
    assert not PYTHON_WORDS.search(shown), shown
    for line in (
        "kind: send",
        "rows_read: 1,200",
        "delivered: 1,200",
        "identifier_coverage: email 100%, phone with id 72%",
        "batches: 120",
    ):
        assert f"{line}\n" in shown
    assert "0.7192" not in shown and "1200" not in shown


def test_one_row_is_a_row(configured, tmp_path):
    run = configured
    path = tmp_path / "one.csv"
    path.write_text(rows(1, phones=0))
    sent = run("send", "rec", "--input", str(path)).output
    assert "run 1 succeeded: 1 row read, 1 delivered" in sent
