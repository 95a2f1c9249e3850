"""Credentials: keyring entries, the environment override, no keyring backend."""

from __future__ import annotations

import pytest
from keyring.backends import fail

import amp_destinations as amp
from amp_destinations import SecretStore


def test_secrets_go_to_the_keyring_one_entry_per_field(host, memory_keyring):
    record = host.add_credential("cred", "echo-token", {"account": "acme"}, {"token": "s3cret"})
    assert memory_keyring.entries == {("amp-destinations", "cred/token"): "s3cret"}
    assert record.fields == {"account": "acme"}
    assert record.secrets == {"token": "keyring"}


def test_secret_fields_are_refused_as_plain_fields(host):
    with pytest.raises(amp.InvalidFieldsError, match="token: is secret"):
        host.add_credential("cred", "echo-token", {"token": "oops"})


def test_missing_required_secret_is_a_validation_error(host, memory_keyring):
    with pytest.raises(amp.InvalidFieldsError, match="token"):
        host.add_credential("cred", "echo-token", {"account": "acme"}, {})
    assert memory_keyring.entries == {}
    assert host.credentials() == []


def test_environment_override_is_read_before_the_keyring(host, monkeypatch):
    host.add_credential("my-cred", "echo-token", secrets={"token": "from-keyring"})
    monkeypatch.setenv("AMP_DEST_SECRET_MY_CRED_TOKEN", "from-env")
    assert host._credential_object("my-cred")["token"] == "from-env"
    assert host.credential("my-cred").secrets == {"token": "environment"}


def test_no_keyring_backend_fails_with_the_ways_out(home, registry):
    with amp.Host(home, registry=registry, secrets=SecretStore(fail.Keyring())) as host:
        with pytest.raises(amp.SecretStoreError) as caught:
            host.add_credential("cred", "echo-token", secrets={"token": "s3cret"})
        message = str(caught.value)
        assert "no usable keyring backend" in message
        assert "PYTHON_KEYRING_BACKEND" in message
        assert "AMP_DEST_SECRET_CRED_TOKEN" in message
        assert "s3cret" not in message
        assert host.credentials() == []


def test_headless_route_secret_from_the_environment_only(home, registry, monkeypatch):
    monkeypatch.setenv("AMP_DEST_SECRET_CI_TOKEN", "env-only")
    with amp.Host(home, registry=registry, secrets=SecretStore(fail.Keyring())) as host:
        record = host.add_credential("ci", "echo-token")
        assert record.secrets == {"token": "environment"}
        assert host._credential_object("ci")["token"] == "env-only"


def test_update_changes_a_secret_and_keeps_the_rest(host, memory_keyring):
    host.add_credential("cred", "echo-token", {"account": "acme"}, {"token": "one"})
    record = host.update_credential("cred", secrets={"token": "two"})
    assert memory_keyring.entries[("amp-destinations", "cred/token")] == "two"
    assert record.fields == {"account": "acme"}


def test_remove_deletes_keyring_entries(host, memory_keyring):
    host.add_credential("cred", "echo-token", secrets={"token": "one"})
    host.remove_credential("cred")
    assert memory_keyring.entries == {}
    with pytest.raises(amp.NotFoundError):
        host.credential("cred")


def test_a_credential_in_use_cannot_be_removed(ready_host):
    with pytest.raises(amp.AlreadyExistsError, match="used by destination"):
        ready_host.remove_credential("cred")


def test_rotated_secrets_are_persisted(ready_host, memory_keyring):
    credential = ready_host._credential_object("cred")
    credential.rotate({"token": "rotated"})
    assert memory_keyring.entries[("amp-destinations", "cred/token")] == "rotated"
    assert "rotated" not in repr(credential)


def test_duplicate_names_are_refused_before_touching_the_keyring(host, memory_keyring):
    host.add_credential("cred", "echo-token", secrets={"token": "one"})
    with pytest.raises(amp.AlreadyExistsError, match="credential named 'cred' exists$"):
        host.add_credential("cred", "echo-token", secrets={"token": "two"})
    assert memory_keyring.entries[("amp-destinations", "cred/token")] == "one"


def test_an_injected_environment_serves_as_the_override(home, registry):
    secrets = SecretStore(fail.Keyring(), environ={"AMP_DEST_SECRET_CI_TOKEN": "injected"})
    with amp.Host(home, registry=registry, secrets=secrets) as host:
        assert host.add_credential("ci", "echo-token").secrets == {"token": "environment"}
        assert host._credential_object("ci")["token"] == "injected"


def test_clearing_a_required_secret_is_refused_and_keeps_it(host, memory_keyring):
    host.add_credential("cred", "echo-token", secrets={"token": "one"})
    with pytest.raises(amp.InvalidFieldsError, match="token: is required"):
        host.update_credential("cred", secrets={"token": ""})
    assert memory_keyring.entries[("amp-destinations", "cred/token")] == "one"


def test_a_field_holding_a_url_with_a_password_is_refused_and_old_ones_are_redacted(host):
    with pytest.raises(amp.InvalidFieldsError, match="account: must not carry a user name"):
        host.add_credential(
            "cred", "echo-token", {"account": "https://me:pw1234@x.example"}, {"token": "t"}
        )
    host.store.insert_credential("old", "echo-token", {"account": "https://me:pw1234@x.example"})
    assert host.credential("old").fields == {"account": "https://[redacted]@x.example"}
    assert "pw1234" not in str(host.credentials())
