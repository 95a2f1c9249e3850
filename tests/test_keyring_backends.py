"""Keyring backends that keep secrets readable in a file are refused like having none;
a test machine opts in with AMP_DEST_ALLOW_INSECURE_KEYRING=1 and is warned on every
credential command. Uses keyrings.alt's real backends and files."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import keyring
import pytest
from click.testing import CliRunner
from keyring.backends import chainer, fail, null
from keyrings.alt.file import EncryptedKeyring, PlaintextKeyring

import amp_destinations as amp
from amp_destinations import SecretStore
from amp_destinations.testing import MemoryKeyring

SECRET = "s3cret-in-plaintext"
OPT_IN = {"AMP_DEST_ALLOW_INSECURE_KEYRING": "1"}


@pytest.fixture
def plaintext(tmp_path):
    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "keyring_pass.cfg")
    return backend


def encrypted() -> EncryptedKeyring:
    # Built without running __init__, which needs pycryptodome: only the class is judged.
    return EncryptedKeyring.__new__(EncryptedKeyring)


def chain_of(*backends):
    class Chain(chainer.ChainerBackend):
        pass

    Chain.backends = list(backends)  # the chain keyring would have discovered
    return Chain()


def test_plaintext_keyring_is_refused_with_the_ways_out(home, registry, plaintext):
    with amp.Host(home, registry=registry, secrets=SecretStore(plaintext, environ={})) as host:
        with pytest.raises(amp.SecretStoreError) as caught:
            host.add_credential("cred", "echo-token", secrets={"token": SECRET})
        assert host.credentials() == []
    message = str(caught.value)
    assert message.startswith(
        "the keyring backend keyrings.alt.file.PlaintextKeyring "
        "keeps secrets readable in a file, so it is refused: "
    )
    for way_out in (
        "start a desktop keyring",
        "PYTHON_KEYRING_BACKEND",
        "AMP_DEST_SECRET_CRED_TOKEN",
        "AMP_DEST_ALLOW_INSECURE_KEYRING=1",
    ):
        assert way_out in message
    assert SECRET not in message
    assert not os.path.exists(plaintext.file_path)


def test_the_opt_in_stores_there_and_says_so(home, registry, plaintext):
    store = SecretStore(plaintext, environ=OPT_IN)
    with amp.Host(home, registry=registry, secrets=store) as host:
        assert host.add_credential("cred", "echo-token", secrets={"token": SECRET}).secrets == {
            "token": "keyring"
        }
        assert host._credential_object("cred")["token"] == SECRET
    # Why it is refused by default: base64 is not encryption.
    stored = Path(plaintext.file_path).read_text(encoding="utf-8")
    assert base64.b64encode(SECRET.encode()).decode() in stored
    assert "AMP_DEST_ALLOW_INSECURE_KEYRING=1" in store.insecure_warning
    assert "keyrings.alt.file.PlaintextKeyring" in store.insecure_warning


@pytest.mark.parametrize("value", ["true", "yes", "0", ""])
def test_only_the_exact_opt_in_counts(plaintext, value):
    assert not SecretStore(plaintext, environ={"AMP_DEST_ALLOW_INSECURE_KEYRING": value}).usable


def test_a_refused_plaintext_keyring_still_forgets_what_it_holds(home, registry, plaintext):
    with amp.Host(home, registry=registry, secrets=SecretStore(plaintext, OPT_IN)) as host:
        host.add_credential("cred", "echo-token", secrets={"token": SECRET})
    with amp.Host(home, registry=registry, secrets=SecretStore(plaintext, {})) as host:
        host.remove_credential("cred")
    assert plaintext.get_password("amp-destinations", "cred/token") is None


@pytest.mark.parametrize(
    "backend",
    [encrypted(), MemoryKeyring(), chain_of(encrypted(), PlaintextKeyring())],
    ids=["encrypted file", "memory", "chain writing to encrypted"],
)
def test_encrypted_and_in_memory_backends_stay_allowed(backend):
    store = SecretStore(backend, environ={})
    assert store.usable and store.insecure_warning is None


@pytest.mark.parametrize(
    "backend",
    [chain_of(PlaintextKeyring(), encrypted()), chain_of(PlaintextKeyring())],
    ids=["plaintext first", "plaintext alone"],
)
def test_a_chain_is_judged_by_where_its_writes_go(backend):
    assert not SecretStore(backend, environ={}).usable
    assert SecretStore(backend, environ=OPT_IN).insecure_warning is not None


@pytest.mark.parametrize(
    "backend", [fail.Keyring(), null.Keyring(), chain_of()], ids=["fail", "null", "empty chain"]
)
def test_backends_that_store_nothing_are_unusable_even_with_the_opt_in(home, registry, backend):
    with (
        amp.Host(home, registry=registry, secrets=SecretStore(backend, OPT_IN)) as host,
        pytest.raises(amp.SecretStoreError, match="no usable keyring backend"),
    ):
        host.add_credential("cred", "echo-token", secrets={"token": SECRET})


def test_every_credential_command_warns_once_with_the_opt_in(cli, plaintext, monkeypatch):
    keyring.set_keyring(plaintext)  # the autouse fixture puts the memory keyring back
    monkeypatch.setenv("AMP_DEST_ALLOW_INSECURE_KEYRING", "1")
    runner = CliRunner()
    for args, stdin in (
        (
            ["credentials", "add", "cred", "--type", "echo-token", "--secrets-stdin"],
            f'{{"token": "{SECRET}"}}',
        ),
        (["credentials", "list"], None),
        (["credentials", "show", "cred"], None),
        (["credentials", "update", "cred", "--secrets-stdin"], '{"token": "x"}'),
        (["credentials", "remove", "cred"], None),
    ):
        result = runner.invoke(cli, args, input=stdin)
        assert result.exit_code == 0, result.output
        warnings = [line for line in result.stderr.splitlines() if "warning" in line]
        assert warnings == [
            "amp-dest: warning: secrets are stored readably in a file by "
            "keyrings.alt.file.PlaintextKeyring, because AMP_DEST_ALLOW_INSECURE_KEYRING=1: "
            "use this only on a test machine"
        ], args
    assert "warning" not in runner.invoke(cli, ["destinations", "list"]).output


def test_credentials_help_opens_no_host_and_warns_of_nothing(cli, plaintext, monkeypatch, home):
    keyring.set_keyring(plaintext)
    monkeypatch.setenv("AMP_DEST_ALLOW_INSECURE_KEYRING", "1")
    result = CliRunner().invoke(cli, ["credentials", "add", "--help"])
    assert result.exit_code == 0 and "warning" not in result.output
    assert not home.exists()  # --help created no database


def test_the_cli_refuses_a_plaintext_backend_chosen_with_python_keyring_backend(tmp_path):
    env = {
        **os.environ,
        "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "AMP_DEST_HOME": str(tmp_path / "home"),
    }
    env.pop("AMP_DEST_ALLOW_INSECURE_KEYRING", None)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "amp_destinations",
            "credentials",
            "add",
            "hooks",
            "--type",
            "bearer-token",
            "--secrets-stdin",
        ],
        input=f'{{"token": "{SECRET}"}}',
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.startswith(
        "amp-dest: error: the keyring backend "
        "keyrings.alt.file.PlaintextKeyring keeps secrets readable"
    )
    assert result.stderr.count("\n") == 1
    assert not (tmp_path / "data").exists() or SECRET not in "".join(
        path.read_text() for path in (tmp_path / "data").rglob("*") if path.is_file()
    )


@pytest.mark.parametrize("backend", [PlaintextKeyring(), fail.Keyring()], ids=["plaintext", "fail"])
def test_using_a_credential_whose_keyring_is_refused_says_why(home, registry, backend):
    with amp.Host(home, registry=registry, secrets=SecretStore(backend, environ={})) as host:
        host.store.insert_credential("cred", "echo-token", {})
        with pytest.raises(amp.SecretStoreError) as caught:
            host.add_destination("rec", "recorder", "cred", {"label": "x"})
    # Not "has no secret: set it with credentials update", which the keyring would refuse.
    assert "AMP_DEST_SECRET_CRED_TOKEN" in str(caught.value)
    assert "keyring backend" in str(caught.value)
