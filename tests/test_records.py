"""The typed records the Host API returns: documented fields, a ``to_dict()`` with
exactly the keys ``--json`` has always printed, and statuses that are enums and
strings at once."""

from __future__ import annotations

import dataclasses
import json
import pickle
import typing
import warnings

import orjson
import pytest

import amp_destinations as amp

FAST = amp.RetryPolicy(max_attempts=2, base_delay=0.001, max_delay=0.01)


def test_credentials_and_destinations_come_back_as_records(ready_host):
    credential = ready_host.credential("cred")
    assert isinstance(credential, amp.CredentialInfo)
    assert (credential.name, credential.type) == ("cred", "echo-token")
    assert credential.fields == {"account": "acme"}
    assert credential.secrets == {"token": "keyring"} and credential.missing_secrets == ()
    assert ready_host.credentials() == [credential]
    # The --json keys: the stored row's, plus where each secret comes from and which
    # required ones are not set.
    assert set(credential.to_dict()) == set(ready_host.store.credential("cred")) | {
        "secrets",
        "missing_secrets",
    }

    listed = ready_host.destinations()
    assert [type(d) for d in listed] == [amp.DestinationInfo]
    assert (listed[0].name, listed[0].credential) == ("rec", "cred")
    assert listed[0].to_dict() == ready_host.store.destination("rec")
    shown = ready_host.destination_info("rec")
    assert shown.settings["label"] == "one" and set(shown.to_dict()) == set(listed[0].to_dict())


def test_runs_come_back_as_records_whose_dicts_keep_the_json_keys(ready_host):
    result = ready_host.send("rec", [{"id": "E1", "email": "a@example.com"}], retry=FAST)
    assert isinstance(result.status, amp.RunStatus) and result.ok
    run = ready_host.run(result.id)
    assert isinstance(run, amp.RunInfo) and run.status is amp.RunStatus.SUCCEEDED
    assert (run.rows_read, run.delivered, run.rejected, run.pending) == (1, 1, 0, 0)
    [attempt] = run.attempts
    assert isinstance(attempt, amp.AttemptInfo) and attempt.status is amp.RunStatus.SUCCEEDED

    stored = ready_host.store.run(result.id)
    assert set(run.to_dict()) == set(stored) | {"attempts", "already_sent_rows"}
    assert run.to_dict()["attempts"] == ready_host.store.attempts(result.id)
    # The listing does not read attempts, and its JSON never had the key.
    [listed] = ready_host.runs()
    assert listed.attempts is None and listed.to_dict() == stored
    assert dataclasses.replace(run, attempts=None, already_sent_rows=None) == listed


def test_to_dict_holds_plain_json_values(ready_host):
    result = ready_host.send("rec", [{"id": "E1", "email": "a@example.com"}], retry=FAST)
    data = ready_host.run(result.id).to_dict()
    assert type(data["status"]) is str and type(data["attempts"][0]["status"]) is str
    assert type(result.to_dict()["status"]) is str
    assert json.loads(json.dumps(data)) == data


def test_records_are_frozen(ready_host):
    with pytest.raises(dataclasses.FrozenInstanceError):
        ready_host.credential("cred").name = "other"  # type: ignore[misc]


def test_a_run_status_is_a_string_everywhere():
    status = amp.RunStatus.INTERRUPTED
    assert status == "interrupted" and f"{status}" == str(status) == "interrupted"
    assert {"interrupted": 130}[status] == 130
    assert orjson.dumps({"status": status}) == b'{"status":"interrupted"}'
    assert json.dumps(status) == '"interrupted"'
    assert amp.RunStatus("stopped") is amp.RunStatus.STOPPED
    assert [s.value for s in amp.RunStatus] == [
        "running",
        "succeeded",
        "failed",
        "incomplete",
        "interrupted",
        "stopped",
    ]


def public_classes():
    return [getattr(amp, name) for name in amp.__all__ if isinstance(getattr(amp, name), type)]


@pytest.mark.parametrize("cls", public_classes(), ids=lambda cls: cls.__name__)
def test_public_classes_say_they_live_in_the_package(cls):
    assert cls.__module__ == "amp_destinations"
    assert getattr(amp, cls.__qualname__) is cls  # what pickle looks up
    typing.get_type_hints(cls)  # their annotations still resolve


def test_public_objects_pickle_by_their_public_path():
    check = amp.Check.failed("token accepted", "refused", "renew it", amp.FailureType.AUTH)
    missing = amp.NotFoundError("no run with id 3", "run", "3")
    for value in (check, amp.RunStatus.FAILED, amp.OutcomeKind.RETRY):
        assert pickle.loads(pickle.dumps(value)) == value
        assert b"amp_destinations\x94" in pickle.dumps(value) or b"amp_destinations\n" in (
            pickle.dumps(value, protocol=0)
        )
    copy = pickle.loads(pickle.dumps(missing))
    assert (type(copy), str(copy), copy.kind, copy.name) == (
        amp.NotFoundError,
        str(missing),
        "run",
        "3",
    )


def test_the_former_validation_error_name_still_imports_with_a_warning():
    with pytest.warns(DeprecationWarning, match="use amp_destinations.InvalidFieldsError"):
        from amp_destinations import ValidationError
    assert ValidationError is amp.InvalidFieldsError
    assert "ValidationError" not in amp.__all__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(AttributeError):
            amp.NoSuchName  # noqa: B018
