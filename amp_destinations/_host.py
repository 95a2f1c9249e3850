"""The Python API: everything the CLI does, callable with the same names.

with amp_destinations.Host() as host:
    host.add_credential("hooks", "bearer-token", secrets={"token": "..."})
    host.add_destination("audit", "webhook", "hooks", {"url": "https://example.com/in"})
    result = host.send("audit", rows=[{"email": "a@example.com"}])
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import httpx

from ._base import Credential, Destination
from ._delivery import RetryPolicy
from ._engine import DEFAULT_CONCURRENCY, RunResult, SendOptions, run_delivery
from ._errors import (
    AlreadyExistsError,
    AmpDestError,
    ConnectionTestFailed,
    InputError,
    NotFoundError,
    SecretStoreError,
    StorageError,
    ValidationError,
)
from ._http import DEFAULT_TIMEOUT, make_session
from ._names import check_name
from ._plugins import PluginInfo, Registry, load_plugins
from ._preflight import checked_input, open_reader
from ._results import ConnectionStatus
from ._run import SettledRows
from ._schemas import json_schema, load_with
from ._secrets import SecretStore, env_var_name
from ._store import Store
from ._userinfo import redact_userinfo

__all__ = ["Host", "SaveResult"]

log = logging.getLogger("amp_destinations")

# What runs fed rows from Python recorded as their input before it was left empty.
_PYTHON_ROWS = "(python iterable)"


class SaveResult:
    """What saving a destination did: the connection test (None with ``test=False``)
    and one line per remote setting that ``on_save`` applied."""

    def __init__(self, name: str, status: ConnectionStatus | None, messages: list[str]):
        self.name = name
        self.status = status
        self.messages = messages

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "tested": self.status is not None,
            "connection": self.status.to_dict() if self.status else None,
            "applied": self.messages,
        }


def _provided(schema_cls, loaded: Mapping[str, Any], keys: Iterable[str]) -> dict:
    """The typed (dumped) values of the keys the operator gave, secrets left out, so
    that stored settings keep their types and do not freeze today's defaults."""
    dumped = schema_cls().dump(loaded)
    declared = schema_cls._declared_fields
    return {
        key: dumped[key]
        for key in keys
        if key in dumped and not declared[key].metadata.get("secret")
    }


class Host:
    def __init__(
        self,
        home: str | os.PathLike | None = None,
        *,
        registry: Registry | None = None,
        plugins_dir: str | os.PathLike | None = None,
        secrets: SecretStore | None = None,
        transport: httpx.BaseTransport | None = None,
    ):
        self.registry = registry if registry is not None else load_plugins(plugins_dir=plugins_dir)
        self.store = Store(home)
        self.secrets = secrets if secrets is not None else SecretStore()
        self._transport = transport

    @property
    def home(self) -> Path:
        return self.store.home

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Host:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def session(
        self, concurrency: int = DEFAULT_CONCURRENCY, timeout: float = DEFAULT_TIMEOUT
    ) -> httpx.Client:
        return make_session(self._transport, concurrency, timeout)

    # plugins --------------------------------------------------------------------

    def plugins(self) -> list[PluginInfo]:
        return list(self.registry.plugins)

    # credentials ----------------------------------------------------------------

    def add_credential(
        self,
        name: str,
        type: str,
        fields: Mapping[str, Any] | None = None,
        secrets: Mapping[str, str] | None = None,
    ) -> dict:
        check_name(name, "credential")
        credential_type = self.registry.credential_type(type)
        fields, secrets = dict(fields or {}), dict(secrets or {})
        self._reject_misplaced(credential_type, fields, secrets)
        if self.store.exists("credentials", name):
            raise AlreadyExistsError(
                f"a credential named {name!r} exists; use `amp-dest credentials update {name}`"
            )
        values = {**fields, **secrets, **self._env_secrets(name, credential_type, secrets)}
        loaded = load_with(credential_type.schema, values, f"credential {name}")
        stored_fields = _provided(credential_type.schema, loaded, fields)
        written: list[str] = []
        try:
            for field, value in secrets.items():
                if value is not None:
                    self.secrets.set(name, field, value)
                    written.append(field)
            self.store.insert_credential(name, type, stored_fields)
        except AmpDestError:
            for field in written:
                self.secrets.delete(name, field)
            raise
        return self.credential(name)

    def update_credential(
        self,
        name: str,
        fields: Mapping[str, Any] | None = None,
        secrets: Mapping[str, str] | None = None,
    ) -> dict:
        record = self.store.credential(name)
        credential_type = self.registry.credential_type(record["type"])
        fields, secrets = dict(fields or {}), dict(secrets or {})
        self._reject_misplaced(credential_type, fields, secrets)
        merged = {**record["fields"], **fields}
        merged = {key: value for key, value in merged.items() if value is not None}
        # An empty secret clears it, so validate without its current value.
        kept = {
            k: v
            for k, v in self._current_secrets(name, credential_type).items()
            if k not in secrets
        }
        values = {**merged, **kept, **{k: v for k, v in secrets.items() if v}}
        loaded = load_with(credential_type.schema, values, f"credential {name}")
        for field, value in secrets.items():
            if value:
                self.secrets.set(name, field, value)
            else:
                self.secrets.delete(name, field)
        self.store.update_credential(name, _provided(credential_type.schema, loaded, merged))
        return self.credential(name)

    def remove_credential(self, name: str) -> None:
        record = self.store.credential(name)
        self.store.delete_credential(name)
        credential_type = self.registry.credential_types.get(record["type"])
        for field in credential_type.secret_fields() if credential_type else []:
            self.secrets.delete(name, field)

    def credentials(self) -> list[dict]:
        return [self._describe_credential(record) for record in self.store.credentials()]

    def credential(self, name: str) -> dict:
        return self._describe_credential(self.store.credential(name))

    def _describe_credential(self, record: dict) -> dict:
        credential_type = self.registry.credential_types.get(record["type"])
        names = credential_type.secret_fields() if credential_type else []
        return {
            **record,
            "fields": redact_userinfo(record["fields"]),  # as an older release stored them
            "secrets": {field: self.secrets.source(record["name"], field) for field in names},
        }

    def _reject_misplaced(self, credential_type, fields: dict, secrets: dict) -> None:
        secret_names = set(credential_type.secret_fields())
        errors = {
            key: ["is secret: give it as a secret, never as a plain field."]
            for key in fields
            if key in secret_names
        }
        errors.update(
            {
                key: ["is not a secret field of this credential type."]
                for key in secrets
                if key not in secret_names
            }
        )
        if errors:
            raise ValidationError(f"credential fields for {credential_type.name}", errors)

    def _env_secrets(self, name: str, credential_type, given: Mapping[str, str]) -> dict:
        found = {}
        for field in credential_type.secret_fields():
            if field not in given:
                value = self.secrets.from_environment(name, field)
                if value is not None:
                    found[field] = value
        return found

    def _current_secrets(self, name: str, credential_type) -> dict:
        current = {}
        for field in credential_type.secret_fields():
            value = self.secrets.get(name, field)
            if value is not None:
                current[field] = value
        return current

    def _credential_object(self, name: str) -> Credential:
        record = self.store.credential(name)
        credential_type = self.registry.credential_type(record["type"])
        secrets = self._current_secrets(name, credential_type)
        schema = credential_type.schema
        for field in credential_type.secret_fields():
            if schema._declared_fields[field].required and field not in secrets:
                refusal = self.secrets.refusal(name, field)  # the keyring itself is the problem
                if refusal:
                    raise SecretStoreError(refusal)
                raise NotFoundError(
                    f"credential {name!r} has no secret {field!r}: set it with "
                    f"`amp-dest credentials update {name}` or the environment variable "
                    f"{env_var_name(name, field)}"
                )
        loaded = load_with(schema, {**record["fields"], **secrets}, f"credential {name}")
        return Credential(name, credential_type(), loaded, persist=self._persist_rotation)

    def _persist_rotation(self, name: str, new_secrets: dict) -> None:
        for field, value in new_secrets.items():
            if self.secrets.source(name, field) == "environment":
                log.warning(
                    "credential %s: %s was rotated by the remote system but comes from %s; "
                    "update that variable before the next run",
                    name,
                    field,
                    env_var_name(name, field),
                )
                continue
            self.secrets.set(name, field, value)

    # destinations ---------------------------------------------------------------

    def add_destination(
        self,
        name: str,
        type: str,
        credential: str | None = None,
        settings: Mapping[str, Any] | None = None,
        *,
        test: bool = True,
    ) -> SaveResult:
        check_name(name, "destination")
        destination_cls = self.registry.destination(type)
        if self.store.exists("destinations", name):
            raise AlreadyExistsError(
                f"a destination named {name!r} exists; use `amp-dest destinations update {name}`"
            )
        settings = {k: v for k, v in dict(settings or {}).items() if v is not None}
        instance = self._instance(destination_cls, name, credential, settings)
        result = self._save_checks(name, instance, None, test)
        self.store.insert_destination(
            name,
            type,
            credential,
            _provided(destination_cls.settings_schema, instance.settings, settings),
        )
        return result

    def update_destination(
        self,
        name: str,
        settings: Mapping[str, Any] | None = None,
        *,
        credential: str | None = None,
        test: bool = True,
    ) -> SaveResult:
        record = self.store.destination(name)
        destination_cls = self.registry.destination(record["type"])
        merged = {**record["settings"], **dict(settings or {})}
        merged = {k: v for k, v in merged.items() if v is not None}
        credential = credential or record["credential"]
        try:
            previous = load_with(
                destination_cls.settings_schema, record["settings"], f"settings of {name}"
            )
        except ValidationError:  # stored by an older release or plugin: this update fixes them
            previous = None
        instance = self._instance(destination_cls, name, credential, merged)
        result = self._save_checks(name, instance, previous, test)
        self.store.update_destination(
            name,
            credential,
            _provided(destination_cls.settings_schema, instance.settings, merged),
        )
        return result

    def _instance(
        self,
        destination_cls: type[Destination],
        name: str,
        credential: str | None,
        settings: Mapping[str, Any],
    ) -> Destination:
        needed = destination_cls.credential_type
        if needed and not credential:
            raise ValidationError(
                f"destination {name}",
                {
                    "credential": [
                        f"is required: {destination_cls.name} needs a {needed} credential "
                        f"(create one with `amp-dest credentials add NAME --type {needed}`)."
                    ]
                },
            )
        credential_obj = None
        if needed:
            record = self.store.credential(credential)
            if record["type"] != needed:
                raise ValidationError(
                    f"destination {name}",
                    {
                        "credential": [
                            f"{credential!r} is a {record['type']} credential; "
                            f"{destination_cls.name} needs a {needed} credential."
                        ]
                    },
                )
            credential_obj = self._credential_object(credential)
        loaded = load_with(destination_cls.settings_schema, settings, f"settings for {name}")
        return destination_cls(loaded, credential_obj)

    def _save_checks(self, name: str, instance: Destination, previous, test: bool) -> SaveResult:
        if not test:
            return SaveResult(name, None, [])
        with self.session() as session:
            status = instance.test_connection(session)
            if not status.ok:
                check = status.first_failure
                raise ConnectionTestFailed(
                    f"connection test failed at '{check.name}': {check.message} "
                    f"({check.hint}); nothing was saved (use --no-test to save anyway)",
                    status,
                )
            messages = instance.on_save(session, previous)
        return SaveResult(name, status, list(messages))

    def remove_destination(self, name: str) -> None:
        self.store.delete_destination(name)

    def destinations(self) -> list[dict]:
        return [redact_userinfo(record) for record in self.store.destinations()]

    def destination_info(self, name: str) -> dict:
        record = self.store.destination(name)
        destination_cls = self.registry.destination(record["type"])
        loaded = load_with(
            destination_cls.settings_schema, record["settings"], f"settings of {name}"
        )
        return {**record, "settings": destination_cls.settings_schema().dump(loaded)}

    def destination(self, name: str) -> Destination:
        record = self.store.destination(name)
        destination_cls = self.registry.destination(record["type"])
        return self._instance(destination_cls, name, record["credential"], record["settings"])

    def test_destination(self, name: str) -> ConnectionStatus:
        instance = self.destination(name)
        with self.session() as session:
            return instance.test_connection(session)

    def schema(self, type: str) -> dict:
        destination_cls = self.registry.destination(type)
        out = {
            "destination": type,
            "title": destination_cls.title,
            "settings": json_schema(
                destination_cls.settings_schema, f"{destination_cls.title} settings"
            ),
            "credential": None,
        }
        if destination_cls.credential_type:
            credential_type = self.registry.credential_type(destination_cls.credential_type)
            out["credential"] = json_schema(credential_type.schema, credential_type.title)
            out["credential"]["x-credential-type"] = credential_type.name
        return out

    # sending --------------------------------------------------------------------

    def send(
        self,
        name: str | None = None,
        rows: Iterable[Mapping[str, Any]] | None = None,
        *,
        input: str | os.PathLike | None = None,
        format: str | None = None,
        delimiter: str | None = None,
        dry_run: bool = False,
        rejects: str | os.PathLike | None = None,
        output: str | os.PathLike | None = None,
        resume: int | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        batch_size: int | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        progress: bool = False,
    ) -> RunResult:
        """Send ``rows`` (an iterable of mappings) or the file ``input`` through the
        destination ``name``. ``delimiter`` separates the fields of CSV or TSV input
        when it is not their usual one. ``resume=RUN_ID`` continues an unfinished run
        from its ledger, skipping the rows it already delivered or rejected: its
        destination, input, format, delimiter and dry-run mode are the run's own (giving
        others is refused), while ``rejects`` may move its rejects file. ``timeout`` is
        the seconds one request may take before its outcome counts as unknown. An input
        that cannot be what was meant (it lacks columns the destination requires, or
        none of its leading records can be read) raises InputError before a run is
        recorded."""
        run = None
        if resume is not None:
            run = self._resumable(resume, name, rows, input, format, delimiter, dry_run, output)
            name, format, dry_run = run["destination"], run["format"], run["dry_run"]
            delimiter = run["summary"].get("delimiter")
            if rows is None:
                input = run["input"]
            rejects = rejects if rejects is not None else run["rejects_path"]
            output = run["output_path"]
        if name is None:
            raise AmpDestError("name the destination to send to")
        if rows is not None and input is not None:
            raise AmpDestError("give rows or an input file, not both")
        if rows is None and input is None:
            raise InputError("nothing to send: give an input file")
        destination = self.destination(name)

        reader = None
        fingerprint = None
        if rows is None:
            input = os.path.abspath(input)
            reader_cls = self.registry.reader(format) if format else self.registry.reader_for(input)
            format = reader_cls.name
            fingerprint = _fingerprint(input)
            if run is not None and run["summary"].get("input_fingerprint") not in (
                None,
                fingerprint,
            ):
                raise InputError(
                    f"{input} changed since run {resume} started; resuming would skip the "
                    "wrong rows: send it as a new run instead"
                )
            reader = open_reader(reader_cls, input, delimiter)
            rows = reader
            columns = reader.columns
        else:
            if delimiter is not None:
                raise AmpDestError("a delimiter applies to an input file, not to rows")
            columns = None
        try:
            rows = checked_input(destination, rows, name)
            destination.start_run(columns)
            run_id, rejects_path, output_path = self._record_start(
                run,
                name,
                destination,
                input,
                format,
                dry_run,
                rejects,
                output,
                _input_facts(fingerprint, delimiter),
            )
            attempt = self.store.start_attempt(run_id, os.getpid())
            options = SendOptions(
                dry_run=dry_run,
                rejects_path=rejects_path,
                output_path=output_path,
                concurrency=concurrency,
                batch_size=batch_size,
                retry=retry or RetryPolicy(),
                progress=progress,
            )
            settled = None
            if run is not None:
                settled = SettledRows((first, last) for first, last, _ in self.store.ledger(run_id))
            if dry_run:
                result = run_delivery(
                    self.store,
                    run_id,
                    attempt,
                    destination,
                    rows,
                    None,
                    options,
                    settled,
                    resumed=run is not None,
                )
            else:
                with self.session(concurrency, timeout) as session:
                    result = run_delivery(
                        self.store,
                        run_id,
                        attempt,
                        destination,
                        rows,
                        session,
                        options,
                        settled,
                        resumed=run is not None,
                    )
        finally:
            if reader is not None:
                reader.close()
        if fingerprint:
            result.summary = {**result.summary, **_input_facts(fingerprint, delimiter)}
            try:
                self.store.update_run(run_id, summary=result.summary)
            except StorageError:
                pass  # the run's end is recorded already; only this copy is missing
        return result

    def _resumable(
        self,
        run_id: int,
        name: str | None,
        rows,
        input,
        format: str | None,
        delimiter: str | None,
        dry_run: bool,
        output,
    ) -> dict:
        """The run to resume, refusing what would make the resume differ from it."""
        run = self.store.run(run_id)
        if run["status"] == "succeeded":
            raise AmpDestError(f"run {run_id} already succeeded; there is nothing to resume")
        if run["status"] == "running":
            raise AmpDestError(
                f"run {run_id} is still running in process {run['pid']}; resuming it "
                "now would send its rows twice: wait for it, or stop that process"
            )
        from_python = run["input"] in (None, _PYTHON_ROWS)
        conflicts = []
        if name is not None and name != run["destination"]:
            conflicts.append(f"it sends to {run['destination']}, not {name}")
        if input is not None and (from_python or os.path.abspath(input) != run["input"]):
            conflicts.append("it reads " + ("rows from Python" if from_python else run["input"]))
        if rows is not None and not from_python:
            conflicts.append(f"it reads {run['input']}, not rows from Python")
        if format is not None and format != run["format"]:
            conflicts.append(f"its input format is {run['format']}")
        if delimiter is not None and delimiter != run["summary"].get("delimiter"):
            conflicts.append(
                "its delimiter is " + repr(run["summary"].get("delimiter") or "the usual one")
            )
        if dry_run and not run["dry_run"]:
            conflicts.append("it is not a dry run")
        if output is not None and os.path.abspath(output) != run["output_path"]:
            conflicts.append(f"its request files are in {run['output_path'] or '(none)'}")
        if conflicts:
            raise AmpDestError(
                f"run {run_id} cannot be resumed that way: {'; '.join(conflicts)}; resume it "
                "with its own settings (only the rejects path may change)"
            )
        if from_python and rows is None:
            raise AmpDestError(
                f"run {run_id} was fed rows from Python, which cannot be read again here: "
                f"resume it from Python with host.send(rows=<the same rows>, resume={run_id})"
            )
        return run

    def _record_start(
        self,
        run: dict | None,
        name: str,
        destination: Destination,
        input,
        format: str | None,
        dry_run: bool,
        rejects,
        output,
        input_facts: dict,
    ) -> tuple[int, Path, Path | None]:
        """Record the run (or its resume) before anything is sent, with the absolute
        paths it writes to, so that a resume after a crash writes to the same files."""
        if run is None:
            run_id = self.store.insert_run(
                destination=name,
                destination_type=destination.name,
                input=input,
                format=format,
                dry_run=dry_run,
                pid=os.getpid(),
                summary=input_facts,
            )
        else:
            run_id = run["id"]
        run_dir = self.home / "runs" / str(run_id)
        rejects_path = Path(os.path.abspath(rejects)) if rejects else run_dir / "rejects.csv"
        output_path = None
        if dry_run:
            output_path = Path(os.path.abspath(output)) if output else run_dir / "requests"
        self.store.update_run(
            run_id,
            status="running",
            ended_at=None,
            error=None,
            pid=os.getpid(),
            rejects_path=str(rejects_path),
            output_path=str(output_path) if output_path else None,
        )
        return run_id, rejects_path, output_path

    # runs -----------------------------------------------------------------------

    def runs(self, destination: str | None = None, limit: int = 20) -> list[dict]:
        return self.store.runs(destination, limit)

    def run(self, run_id: int) -> dict:
        """One run, with ``attempts``: the first send and each resume."""
        return {**self.store.run(run_id), "attempts": self.store.attempts(run_id)}


def _input_facts(fingerprint: str | None, delimiter: str | None) -> dict:
    """What a resumed run must know of its input file, kept in the run's summary."""
    facts = {"input_fingerprint": fingerprint, "delimiter": delimiter}
    return {key: value for key, value in facts.items() if value is not None}


def _fingerprint(path: str) -> str:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        raise InputError(f"input file {path} does not exist") from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    return f"{stat.st_size}:{stat.st_mtime_ns}"
