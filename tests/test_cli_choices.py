"""Choices shown: what an option or a setting takes is in ``--help`` or in its error."""

from __future__ import annotations

import re

from click.testing import CliRunner

from amp_destinations._version import __version__


def test_send_help_lists_the_input_formats_and_names_tsv(run):
    text = run("send", "--help").output
    assert "--format [csv|jsonl|parquet|tsv]" in text
    assert "CSV, TSV, JSON Lines or Parquet" in text


def test_a_mistyped_format_is_a_usage_error_that_says_which_was_meant(configured, tmp_path):
    run = configured
    path = tmp_path / "rows.txt"
    path.write_text('{"id": "E1", "email": "a@example.com"}\n')
    refused = run("send", "rec", "--input", str(path), "--format", "json")
    assert refused.exit_code == 2
    assert "'json' is not one of 'csv', 'jsonl', 'parquet', 'tsv'. Did you mean 'jsonl'?" in (
        refused.output
    )
    assert "Did you mean" not in run("send", "rec", "--input", str(path), "--format", "x").output
    sent = run("send", "rec", "--input", str(path), "--format", "JSONL")  # case does not matter
    assert sent.exit_code == 0 and "1 row read, 1 delivered" in sent.output


def test_a_boolean_setting_that_is_not_one_says_what_is_accepted(configured):
    refused = configured("destinations", "update", "rec", "--set", "enabled=maybe")
    assert refused.exit_code == 1
    assert refused.output == (
        "amp-dest: error: invalid settings for rec: enabled: must be true or false "
        "(also yes/on/t/y/1 for true, off/no/f/n/0 for false)\n"
    )
    accepted = configured("destinations", "update", "rec", "--set", "enabled=off")
    assert accepted.exit_code == 0, accepted.output


def test_dash_capital_v_is_version(cli):
    runner = CliRunner()
    short, long = (runner.invoke(cli, [flag]) for flag in ("-V", "--version"))
    assert short.exit_code == long.exit_code == 0
    assert short.output == long.output
    assert re.fullmatch(rf"amp-dest, version {re.escape(__version__)}\n", short.output)
