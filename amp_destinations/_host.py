"""The Python API: everything the CLI does, callable with the same names.

with amp_destinations.Host() as host:
    host.add_credential("hooks", "bearer-token", secrets={"token": "..."})
    host.add_destination("audit", "webhook", "hooks", {"url": "https://example.com/in"})
    result = host.send("audit", rows=[{"email": "a@example.com"}])

What it returns about stored things are the typed records of ``_records``
(``CredentialInfo``, ``DestinationInfo``, ``RunInfo``); the Store underneath keeps
handing out dicts, which the Host converts. Its errors say what is wrong in the API's
terms; the CLI adds the commands to run (``_cli_hints``).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sized
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from ._authorize import Choice
from ._authorizing import authorize, reauthorize
from ._base import Credential, CredentialType, Destination, Reader
from ._defaults import DEFAULT_CONCURRENCY, DEFAULT_SAMPLE, DEFAULT_TIMEOUT, MAX_SAMPLE
from ._delivery import RetryPolicy
from ._engine import RunResult, SendOptions, run_delivery
from ._errors import (
    AmpDestError,
    ConnectionTestFailed,
    InputError,
    InvalidFieldsError,
    NotFoundError,
    PluginError,
    SecretStoreError,
)
from ._http import make_session
from ._names import check_name, env_var_name
from ._plugins import PluginInfo, Registry, load_plugins
from ._preflight import checked_input, open_reader
from ._public import public
from ._records import (
    SPARK_FORMAT,
    AttemptInfo,
    AuthorizeResult,
    CredentialInfo,
    DestinationInfo,
    RunInfo,
    RunKind,
    RunStatus,
)
from ._redirect import Browser
from ._results import ConnectionStatus
from ._run import SettledRows
from ._schemas import json_schema, load_with, provided
from ._secrets import SecretStore
from ._sent_gate import indexed
from ._store import Store
from ._userinfo import redact_userinfo

__all__ = ["Host", "SaveResult"]

log = logging.getLogger("amp_destinations")

# What runs fed rows from Python recorded as their input before it was left empty.
_PYTHON_ROWS = "(python iterable)"


@public
@dataclass(frozen=True)
class SaveResult:
    """What saving a destination did.

    ``name``      the destination saved
    ``status``    its connection test, None when saved with ``test=False``
    ``messages``  one line per remote setting that ``on_save`` applied
    """

    name: str
    status: ConnectionStatus | None
    messages: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "tested": self.status is not None,
            "connection": self.status.to_dict() if self.status else None,
            "applied": self.messages,
        }


@dataclass
class _Input:
    """What one send reads: the caller's rows, or a file opened with its reader."""

    rows: Iterable[Any]  # the reader itself for a file
    format: str | None  # the reader's name for a file; for rows, whatever the caller said
    reader: Reader | None = None
    path: str | None = None  # the file's absolute path
    fingerprint: str | None = None  # the file's size and time, to refuse a changed input
    delimiter: str | None = None
    columns: list[str] | None = None  # as the reader knew them once opened

    @property
    def facts(self) -> dict[str, str]:
        """What a resumed run must know of its input file, kept in the run's summary."""
        facts = {"input_fingerprint": self.fingerprint, "delimiter": self.delimiter}
        return {key: value for key, value in facts.items() if value is not None}

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()


def _run_info(
    record: dict[str, Any],
    attempts: Iterable[dict[str, Any]] | None = None,
    ledger: Iterable[tuple[int, int, str]] | None = None,
) -> RunInfo:
    return RunInfo(
        **record,
        attempts=None if attempts is None else tuple(map(_attempt_info, attempts)),
        already_sent_rows=None
        if ledger is None
        else tuple((first, last) for first, last, outcome in ledger if outcome == "already_sent"),
    )


def _attempt_info(record: dict[str, Any]) -> AttemptInfo:
    names = AttemptInfo.__dataclass_fields__
    return AttemptInfo(**{key: value for key, value in record.items() if key in names})


@public
class Host:
    """The host: plugins, credentials, destinations, sending and run history.

    ``home`` is where the database and run files live (default: ``AMP_DEST_HOME``, or
    the user data directory). Plugins are loaded unless a ``registry`` is given
    (``plugins_dir`` adds a folder of plugin files). ``secrets`` is the secret store
    (default: the system keyring); ``transport`` replaces httpx's, for tests. Use it
    as a context manager, or call ``close()``.

    Every method may raise ``StorageError`` when the disk or the database fails.
    """

    def __init__(
        self,
        home: str | os.PathLike[str] | None = None,
        *,
        registry: Registry | None = None,
        plugins_dir: str | os.PathLike[str] | None = None,
        secrets: SecretStore | None = None,
        transport: httpx.BaseTransport | None = None,
    ):
        self.registry = registry if registry is not None else load_plugins(plugins_dir=plugins_dir)
        self.store = Store(home)
        self.secrets = secrets if secrets is not None else SecretStore()
        self._transport = transport

    @property
    def home(self) -> Path:
        """The folder of the database and the run files."""
        return self.store.home

    def close(self) -> None:
        """Close the database."""
        self.store.close()

    def __enter__(self) -> Host:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def session(
        self, concurrency: int = DEFAULT_CONCURRENCY, timeout: float = DEFAULT_TIMEOUT
    ) -> httpx.Client:
        """A new pooled ``httpx.Client`` as destinations get it: ``concurrency``
        connections, ``timeout`` seconds a request. Close it (``with``) when done."""
        return make_session(self._transport, concurrency, timeout)

    # plugins --------------------------------------------------------------------

    def plugins(self) -> list[PluginInfo]:
        """The plugins that were found, each with what it registered or why it failed
        to load."""
        return list(self.registry.plugins)

    # credentials ----------------------------------------------------------------

    def add_credential(
        self,
        name: str,
        type: str,
        fields: Mapping[str, Any] | None = None,
        secrets: Mapping[str, str] | None = None,
    ) -> CredentialInfo:
        """Store a new credential of credential type ``type``: ``fields`` in the
        database, ``secrets`` in the keyring (a secret left out may come from its
        environment variable). Returns it as stored.

        Raises InvalidFieldsError (a bad name, a secret given as a field or the
        reverse, or values its schema refuses), NotFoundError (no such type),
        AlreadyExistsError (the name is taken) and SecretStoreError (no usable
        keyring); nothing is stored then."""
        check_name(name, "credential")
        credential_type = self.registry.credential_type(type)
        fields, secrets = dict(fields or {}), dict(secrets or {})
        self._reject_misplaced(credential_type, fields, secrets)
        self.store.refuse_taken("credential", name)
        values = {**fields, **secrets, **self._env_secrets(name, credential_type, secrets)}
        loaded = load_with(credential_type.schema, values, f"credential {name}")
        stored_fields = provided(credential_type.schema, loaded, fields)
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
    ) -> CredentialInfo:
        """Change fields (a value of None clears one) and secrets (an empty value
        clears one) of the credential ``name``; the others stay. Returns it as stored.

        Raises NotFoundError (no such credential), InvalidFieldsError (values its
        schema refuses, with the current ones merged in) and SecretStoreError."""
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
        self.store.update_credential(name, provided(credential_type.schema, loaded, merged))
        return self.credential(name)

    def authorize_credential(
        self,
        name: str,
        type: str,
        fields: Mapping[str, Any] | None = None,
        secrets: Mapping[str, str] | None = None,
        *,
        redirect_uri: str | None = None,
        browser: Browser = True,
        read_redirect: Callable[[str], str] | None = None,
        timeout: float | None = None,
    ) -> AuthorizeResult:
        """Create the credential ``name`` of credential type ``type`` through the type's
        authorization flow (``CredentialType.authorization``): a person approves in a
        browser, and the code that comes back is exchanged for the credential's secrets,
        which go straight to the keyring, and its account facts, kept in the database.

        ``fields`` and ``secrets`` give what the flow needs first (its ``app_fields``:
        an app id and secret, say). The redirect comes back to a listener on
        127.0.0.1 at a free port, unless the flow takes no loopback redirect,
        ``redirect_uri`` (the app's registered one) points elsewhere, or ``browser`` is
        False: then ``read_redirect(url)`` is called and returns what the person pasted,
        the address the browser was sent to or the bare code. ``browser`` True opens
        the system's browser on the authorization page; a callable is called with its
        URL instead (print it, then open it). ``timeout`` replaces the flow's
        ``time_limit`` in seconds. Returns the credential as stored, with the flow's
        warnings (a permission that was not granted, say).

        Everything about the name, the type and the secret store is checked before a
        browser opens. Raises InvalidFieldsError (a bad name, a missing app field,
        values its schema refuses), NotFoundError (no such type, or it declares no
        flow), AlreadyExistsError, SecretStoreError (no usable keyring),
        AuthorizationRefused (denied, a state that does not match, no answer in time,
        the code exchange refused) and PluginError (a flow that broke its contract);
        nothing is stored then."""
        return authorize(
            self,
            name,
            type,
            fields,
            secrets,
            redirect_uri=redirect_uri,
            browser=browser,
            read_redirect=read_redirect,
            timeout=timeout,
        )

    def reauthorize_credential(
        self,
        name: str,
        fields: Mapping[str, Any] | None = None,
        secrets: Mapping[str, str] | None = None,
        *,
        redirect_uri: str | None = None,
        browser: Browser = True,
        read_redirect: Callable[[str], str] | None = None,
        timeout: float | None = None,
    ) -> AuthorizeResult:
        """Renew the credential ``name`` in place through its type's authorization flow,
        when the remote system stopped accepting its token (revoked, expired, the
        authorizing person lost access). The name stays, so every destination that uses
        it keeps working; its fields stay unless ``fields`` changes them (None clears
        one) and its app secrets unless ``secrets`` replaces them; the secrets and facts
        the new authorization brings replace the old ones, all or none. The other
        arguments, the result and the errors are those of ``authorize_credential``
        (NotFoundError too when there is no such credential); on an error the
        credential is left as it was."""
        return reauthorize(
            self,
            name,
            fields,
            secrets,
            redirect_uri=redirect_uri,
            browser=browser,
            read_redirect=read_redirect,
            timeout=timeout,
        )

    def remove_credential(self, name: str) -> None:
        """Remove the credential ``name`` and its keyring entries.

        Raises NotFoundError (no such credential) and AlreadyExistsError (a
        destination still uses it)."""
        record = self.store.credential(name)
        self.store.delete_credential(name)
        credential_type = self.registry.credential_types.get(record["type"])
        for field in credential_type.secret_fields() if credential_type else []:
            self.secrets.delete(name, field)

    def credentials(self) -> list[CredentialInfo]:
        """Every credential, by name; which secrets are set, never their values."""
        return [self._describe_credential(record) for record in self.store.credentials()]

    def credential(self, name: str) -> CredentialInfo:
        """The credential ``name``; which secrets are set, never their values.

        Raises NotFoundError when there is none."""
        return self._describe_credential(self.store.credential(name))

    def _describe_credential(self, record: dict[str, Any]) -> CredentialInfo:
        credential_type = self.registry.credential_types.get(record["type"])
        names = credential_type.secret_fields() if credential_type else []
        sources = {field: self.secrets.source(record["name"], field) for field in names}
        declared = credential_type.schema._declared_fields if credential_type else {}
        return CredentialInfo(
            name=record["name"],
            type=record["type"],
            fields=redact_userinfo(record["fields"]),  # as an older release stored them
            secrets=sources,
            missing_secrets=tuple(
                field for field in names if sources[field] is None and declared[field].required
            ),
            created_at=record["created_at"],
            updated_at=record["updated_at"],
            facts=record["facts"],
        )

    def _reject_misplaced(
        self,
        credential_type: type[CredentialType],
        fields: Mapping[str, Any],
        secrets: Mapping[str, Any],
    ) -> None:
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
            raise InvalidFieldsError(f"credential fields for {credential_type.name}", errors)

    def _env_secrets(
        self, name: str, credential_type: type[CredentialType], given: Mapping[str, str]
    ) -> dict[str, str]:
        found = {}
        for field in credential_type.secret_fields():
            if field not in given:
                value = self.secrets.from_environment(name, field)
                if value is not None:
                    found[field] = value
        return found

    def _current_secrets(self, name: str, credential_type: type[CredentialType]) -> dict[str, str]:
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
                    f"update_credential() or the environment variable {env_var_name(name, field)}",
                    "secret",
                    name,
                    field,
                )
        loaded = load_with(schema, {**record["fields"], **secrets}, f"credential {name}")
        return Credential(
            name, credential_type(), loaded, persist=self._persist_rotation, facts=record["facts"]
        )

    def _persist_rotation(self, name: str, new_secrets: dict[str, str]) -> None:
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
        """Configure a destination of destination type ``type`` with the credential
        named ``credential`` (when the type needs one) and ``settings``. Unless
        ``test`` is False, its connection is tested first and ``on_save`` applies
        remote settings; returns what that did.

        Raises InvalidFieldsError (a bad name, no credential or one of the wrong
        type, settings its schema refuses), NotFoundError (no such type or
        credential, or a required secret missing), AlreadyExistsError (the name is
        taken) and ConnectionTestFailed; nothing is saved then."""
        check_name(name, "destination")
        destination_cls = self.registry.destination(type)
        self.store.refuse_taken("destination", name)
        settings = {k: v for k, v in dict(settings or {}).items() if v is not None}
        instance = self._instance(destination_cls, name, credential, settings)
        result = self._save_checks(name, instance, None, test)
        self.store.insert_destination(
            name,
            type,
            credential,
            provided(destination_cls.settings_schema, instance.settings, settings),
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
        """Change settings of the destination ``name`` (a value of None clears one)
        or its credential; the others stay. Tested and applied as in
        ``add_destination``; returns what that did.

        Raises NotFoundError, InvalidFieldsError and ConnectionTestFailed as
        ``add_destination`` does; nothing is saved then."""
        record = self.store.destination(name)
        destination_cls = self.registry.destination(record["type"])
        merged = {**record["settings"], **dict(settings or {})}
        merged = {k: v for k, v in merged.items() if v is not None}
        credential = credential or record["credential"]
        try:
            previous = load_with(
                destination_cls.settings_schema, record["settings"], f"settings of {name}"
            )
        except InvalidFieldsError:  # stored by an older release or plugin: this update fixes them
            previous = None
        instance = self._instance(destination_cls, name, credential, merged)
        result = self._save_checks(name, instance, previous, test)
        self.store.update_destination(
            name,
            credential,
            provided(destination_cls.settings_schema, instance.settings, merged),
        )
        return result

    def _instance(
        self,
        destination_cls: type[Destination],
        name: str,
        credential: str | None,
        settings: Mapping[str, Any],
    ) -> Destination:
        credential_obj = self._destination_credential(destination_cls, name, credential)
        loaded = load_with(destination_cls.settings_schema, settings, f"settings for {name}")
        return destination_cls(loaded, credential_obj)

    def _destination_credential(
        self, destination_cls: type[Destination], name: str, credential: str | None
    ) -> Credential | None:
        """The credential ``credential`` built for a destination ``name`` of
        ``destination_cls``, once it is known to be of the type that one needs."""
        needed = destination_cls.credential_type
        if not needed:
            return None
        if not credential:
            raise InvalidFieldsError(
                f"destination {name}",
                {
                    "credential": [
                        f"is required: {destination_cls.name} needs a {needed} credential."
                    ]
                },
                needs_credential=needed,
            )
        record = self.store.credential(credential)
        if record["type"] != needed:
            raise InvalidFieldsError(
                f"destination {name}",
                {
                    "credential": [
                        f"{credential!r} is a {record['type']} credential; "
                        f"{destination_cls.name} needs a {needed} credential."
                    ]
                },
            )
        return self._credential_object(credential)

    def _save_checks(
        self, name: str, instance: Destination, previous: Mapping[str, Any] | None, test: bool
    ) -> SaveResult:
        if not test:
            return SaveResult(name, None, [])
        with self.session() as session:
            status = instance.test_connection(session)
            if not status.ok:
                check = status.first_failure
                where = ""
                if check is not None:
                    # Clauses joined by "; ": a hint in parentheses would nest the
                    # parentheses of the plugin's message and of the CLI's hint.
                    where = f" at '{check.name}'" + (f": {check.message}" if check.message else "")
                    if check.hint:
                        where += f"; {check.hint.rstrip('.')}"
                credential = instance.credential
                raise ConnectionTestFailed(
                    f"connection test failed{where}; nothing was saved",
                    status,
                    credential=credential.name if credential else None,
                    renewable=bool(credential and credential.type.authorization),
                )
            messages = instance.on_save(session, previous)
        return SaveResult(name, status, list(messages))

    def choices(
        self,
        type: str,
        setting: str,
        credential: str | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> list[Choice]:
        """The values the setting ``setting`` of destination type ``type`` may take, as
        the remote system lists them for the credential named ``credential`` and the
        ``settings`` chosen so far (the event sets of the advertiser given, say); each
        a ``Choice`` of value and label. Read-only.

        Raises NotFoundError (no such type or credential, or the type lists no choices
        for that setting: the message names those it lists), InvalidFieldsError (no
        credential, or one of the wrong type), SecretStoreError and PluginError (a
        plugin that answered something other than a list of Choice)."""
        destination_cls = self.registry.destination(type)
        if setting not in destination_cls.choosable:
            listed = ", ".join(destination_cls.choosable) or "none"
            raise NotFoundError(
                f"destination type {type} lists no choices for {setting!r} "
                f"(settings it lists choices for: {listed})",
                "choosable setting",
                setting,
            )
        credential_obj = self._destination_credential(destination_cls, type, credential)
        chosen = {k: v for k, v in dict(settings or {}).items() if v is not None}
        with self.session() as session:
            found = destination_cls.choices(setting, credential_obj, chosen, session)
        if not isinstance(found, list) or not all(isinstance(c, Choice) for c in found):
            raise PluginError(
                f"{destination_cls.__name__}.choices did not return a list of Choice; "
                "report this to the plugin's authors"
            )
        return found

    def remove_destination(self, name: str) -> None:
        """Remove the destination ``name``; its run history stays.

        Raises NotFoundError when there is none."""
        self.store.delete_destination(name)

    def destinations(self) -> list[DestinationInfo]:
        """Every configured destination, by name, with its settings as stored."""
        return [DestinationInfo(**redact_userinfo(record)) for record in self.store.destinations()]

    def destination_info(self, name: str) -> DestinationInfo:
        """The destination ``name`` with its settings as its schema loads them,
        defaults included.

        Raises NotFoundError (no such destination, or its type is not loaded) and
        InvalidFieldsError (its stored settings no longer load)."""
        record = self.store.destination(name)
        destination_cls = self.registry.destination(record["type"])
        loaded = load_with(
            destination_cls.settings_schema, record["settings"], f"settings of {name}"
        )
        return DestinationInfo(
            **{**record, "settings": destination_cls.settings_schema().dump(loaded)}
        )

    def destination(self, name: str) -> Destination:
        """The destination ``name`` built as a run uses it: its plugin's class with
        loaded settings and the credential (secrets included).

        Raises NotFoundError (no such destination, type or credential, or a required
        secret missing), InvalidFieldsError and SecretStoreError."""
        record = self.store.destination(name)
        destination_cls = self.registry.destination(record["type"])
        return self._instance(destination_cls, name, record["credential"], record["settings"])

    def forget_sent(self, name: str, before: float | None = None) -> int:
        """Clear the sent-events index of the destination ``name``: the items sent
        before ``before`` (seconds since the epoch), or all of them; how many were
        forgotten. A later run sends them again. (The index outlives a removed
        destination: its name may be given here still.)

        Raises NotFoundError when there is no such destination and no index of it."""
        from ._sent_index import forget  # numpy: loaded when an index is used

        return forget(self.store, name, before)

    def test_destination(self, name: str) -> ConnectionStatus:
        """Test the connection of the destination ``name`` (read-only: nothing is
        sent); ``ok`` only when every check passed. Raises as ``destination``."""
        instance = self.destination(name)
        with self.session() as session:
            return instance.test_connection(session)

    def schema(self, type: str) -> dict[str, Any]:
        """The JSON Schema of destination type ``type``: ``settings``, and the
        ``credential`` type's fields (secrets marked ``writeOnly``) or None.

        Raises NotFoundError when no plugin registered the type."""
        destination_cls = self.registry.destination(type)
        credential: dict[str, Any] | None = None
        if destination_cls.credential_type:
            credential_type = self.registry.credential_type(destination_cls.credential_type)
            credential = json_schema(credential_type.schema, credential_type.title)
            credential["x-credential-type"] = credential_type.name
        return {
            "destination": type,
            "title": destination_cls.title,
            "settings": json_schema(
                destination_cls.settings_schema, f"{destination_cls.title} settings"
            ),
            "credential": credential,
        }

    # sending --------------------------------------------------------------------

    def send(
        self,
        name: str | None = None,
        rows: Iterable[Mapping[str, Any]] | None = None,
        *,
        input: str | os.PathLike[str] | None = None,
        format: str | None = None,
        delimiter: str | None = None,
        dry_run: bool = False,
        rejects: str | os.PathLike[str] | None = None,
        output: str | os.PathLike[str] | None = None,
        resume: int | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        batch_size: int | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        progress: bool = False,
        validate: bool = False,
        sample: int = DEFAULT_SAMPLE,
        test_event_code: str | None = None,
        resend: bool = False,
        stop: threading.Event | None = None,
        started: Callable[[int], object] | None = None,
    ) -> RunResult:
        """Send ``rows`` (an iterable of mappings, or a ``Reader`` already open, read
        with its columns as a file is) or the file ``input`` through the destination
        ``name``, and return the run's result.

        ``format`` names the input format when the file's suffix does not tell;
        ``delimiter`` separates the fields of CSV or TSV input when it is not their
        usual one. ``dry_run`` does everything but send, writing the request bodies to
        ``output`` (a folder). ``rejects`` is where the rejects file goes (default: in
        the run's folder). ``resume=RUN_ID`` continues an unfinished run from its
        ledger, skipping the rows it already delivered or rejected: its destination,
        input, format, delimiter and dry-run mode are the run's own (giving others is
        refused), while ``rejects`` may move its rejects file. ``concurrency`` is the
        requests in flight, ``batch_size`` caps the items per request, ``retry`` sets
        the backoff, ``timeout`` is the seconds one request may take before its
        outcome counts as unknown, and ``progress`` shows a bar on stderr.

        ``validate`` makes it a validation run (``kind`` "validation"): every row is
        prepared and checked here, rejects recorded as a send would, but only
        ``sample`` valid rows (1 to 1,000), spread across the input, are sent, one per
        request, as test events marked with ``test_event_code`` (or the destination's
        own; a destination that cannot send test events refuses). Its summary's
        ``not_sent`` counts the valid rows left out, so read = delivered + rejected +
        not_sent + pending, and ``verdict`` says what a full send would do:
        ``would_deliver``, ``would_reject`` and ``rejected_by_code`` (the rows found
        invalid here), ``sample`` (``sent``, ``accepted``, ``refused``, ``unanswered``
        and ``rows``: each row's number, record id, outcome, code and message) and
        ``ready``: every test event was accepted. A validation run is not resumed:
        validate again.

        A destination that declares idempotency keys (TikTok: event set, event and
        event_id) has a sent-events index: a run skips the items delivered within the
        destination's window (TikTok: 28 days and 5 minutes), counting them in its
        summary's ``already_sent``, so read = delivered + rejected + already_sent +
        pending. ``resend`` sends them anyway; ``resent`` counts those delivered again.
        A dry run counts what it would skip and adds nothing to the index; a
        validation run neither skips nor adds (its sample is test events). See
        ``forget_sent``.

        ``stop`` is for a caller that runs the send in a thread of its own, where no
        signal reaches: setting it stops the run as the first Ctrl-C does (nothing new
        is sent, the requests in flight are answered and recorded) and the run ends
        interrupted, to resume. ``started`` is called with the run's id once the run is
        recorded, before its first row is read (a front end shows its progress).

        A run the remote system stops, or one left with rows pending, is not an
        exception: the result's ``status`` and ``error`` say so. Raises, before a run
        is recorded: InputError for an input that cannot be what was meant (it is
        missing, lacks columns the destination requires, none of its leading records
        can be read, or it changed since the run to resume started); AmpDestError for
        arguments that do not fit together or a run that cannot be resumed;
        NotFoundError and the errors of ``destination``. An exception raised by
        ``rows`` itself fails the run (recorded) and reaches the caller."""
        if validate:
            _check_validation(dry_run, resume, sample)
        elif test_event_code is not None:
            raise AmpDestError("a test event code applies to a validation run: add validate")
        run = None
        if resume is not None:
            run = self._resumable(resume, name, rows, input, format, delimiter, dry_run, output)
            # A resume continues the run as it was started.
            name, format, dry_run = run.destination, run.format, run.dry_run
            delimiter = run.summary.get("delimiter")
            resend = resend or bool(run.summary.get("resend"))
            if rows is None:
                input = run.input
            rejects = rejects if rejects is not None else run.rejects_path
            output = run.output_path
        if name is None:
            raise AmpDestError("name the destination to send to")
        if rows is not None and input is not None:
            raise AmpDestError("give rows or an input file, not both")
        if rows is None and input is None:
            raise InputError("nothing to send: give an input file")
        destination = self.destination(name)
        source = self._open_input(rows, input, format, delimiter, run)
        try:
            checked = checked_input(destination, source.rows, name)
            if validate:
                destination.start_test_events(test_event_code)
            destination.start_run(source.columns)
            kind = RunKind.VALIDATION if validate else RunKind.DRY_RUN if dry_run else RunKind.SEND
            run_id, rejects_path, output_path = self._record_start(
                run, name, destination, source, kind, rejects, output, resend
            )
            options = SendOptions(
                dry_run=dry_run,
                rejects_path=rejects_path,
                output_path=output_path,
                concurrency=concurrency,
                batch_size=batch_size,
                retry=retry or RetryPolicy(),
                progress=progress,
                input_facts=source.facts,
                input_progress=source.reader.progress if source.reader is not None else None,
                input_rows=len(rows) if isinstance(rows, Sized) else None,
                sample=sample if validate else None,
                resend=resend,
                stop=stop,
            )
            if started is not None:
                started(run_id)
            return self._deliver(run, run_id, name, destination, checked, options, timeout)
        finally:
            source.close()

    def _resumable(
        self,
        run_id: int,
        name: str | None,
        rows: Iterable[Any] | None,
        input: str | os.PathLike[str] | None,
        format: str | None,
        delimiter: str | None,
        dry_run: bool,
        output: str | os.PathLike[str] | None,
    ) -> RunInfo:
        """The run to resume, refusing what would make the resume differ from it."""
        run = _run_info(self.store.run(run_id))
        if run.kind is RunKind.VALIDATION:
            raise AmpDestError(
                f"run {run_id} is a validation run, which is not resumed: validate again"
            )
        if run.format == SPARK_FORMAT:
            raise AmpDestError(
                f"run {run_id} was sent from Spark, which this process cannot read again: "
                f"re-run its Spark job with the option run={run_id}"
            )
        if run.status is RunStatus.SUCCEEDED:
            raise AmpDestError(f"run {run_id} already succeeded; there is nothing to resume")
        if run.status is RunStatus.RUNNING:
            raise AmpDestError(
                f"run {run_id} is still running in process {run.pid}; resuming it "
                "now would send its rows twice: wait for it, or stop that process"
            )
        from_python = run.input in (None, _PYTHON_ROWS)
        recorded_delimiter = run.summary.get("delimiter")
        conflicts = []
        if name is not None and name != run.destination:
            conflicts.append(f"it sends to {run.destination}, not {name}")
        if input is not None and (from_python or os.path.abspath(input) != run.input):
            conflicts.append("it reads " + ("rows from Python" if from_python else f"{run.input}"))
        if rows is not None and not from_python:
            conflicts.append(f"it reads {run.input}, not rows from Python")
        if format is not None and format != run.format:
            conflicts.append(f"its input format is {run.format}")
        if delimiter is not None and delimiter != recorded_delimiter:
            conflicts.append("its delimiter is " + repr(recorded_delimiter or "the usual one"))
        if dry_run and not run.dry_run:
            conflicts.append("it is not a dry run")
        if output is not None and os.path.abspath(output) != run.output_path:
            conflicts.append(f"its request files are in {run.output_path or '(none)'}")
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

    def _open_input(
        self,
        rows: Iterable[Mapping[str, Any]] | None,
        input: str | os.PathLike[str] | None,
        format: str | None,
        delimiter: str | None,
        run: RunInfo | None,
    ) -> _Input:
        """The rows to send: the caller's, or the file ``input`` opened with its
        reader, once it is known to be the file a resumed run read."""
        if rows is not None:
            if delimiter is not None:
                raise AmpDestError("a delimiter applies to an input file, not to rows")
            columns = rows.columns if isinstance(rows, Reader) else None
            return _Input(rows, format, columns=columns)
        assert input is not None  # send refused neither rows nor input
        path = os.path.abspath(input)
        reader_cls = self.registry.reader(format) if format else self.registry.reader_for(path)
        fingerprint = _fingerprint(path)
        if run is not None and run.summary.get("input_fingerprint") not in (None, fingerprint):
            raise InputError(
                f"{path} changed since run {run.id} started; resuming would skip the "
                "wrong rows: send it as a new run instead"
            )
        reader = open_reader(reader_cls, path, delimiter)
        return _Input(reader, reader_cls.name, reader, path, fingerprint, delimiter, reader.columns)

    def _record_start(
        self,
        run: RunInfo | None,
        name: str,
        destination: Destination,
        source: _Input,
        kind: RunKind,
        rejects: str | os.PathLike[str] | None,
        output: str | os.PathLike[str] | None,
        resend: bool,
    ) -> tuple[int, Path, Path | None]:
        """Record the run (or its resume) before anything is sent, with the absolute
        paths it writes to, so that a resume after a crash writes to the same files
        (and resends, if it did)."""
        if run is None:
            run_id = self.store.insert_run(
                destination=name,
                destination_type=destination.name,
                input=source.path,
                format=source.format,
                dry_run=kind is RunKind.DRY_RUN,
                kind=kind.value,
                pid=os.getpid(),
                summary={**source.facts, **({"resend": True} if resend else {})},
            )
        else:
            run_id = run.id
        run_dir = self.home / "runs" / str(run_id)
        rejects_path = Path(os.path.abspath(rejects)) if rejects else run_dir / "rejects.csv"
        output_path = None
        if kind is RunKind.DRY_RUN:
            output_path = Path(os.path.abspath(output)) if output else run_dir / "requests"
        self.store.update_run(
            run_id,
            status=RunStatus.RUNNING.value,
            ended_at=None,
            error=None,
            pid=os.getpid(),
            rejects_path=str(rejects_path),
            output_path=str(output_path) if output_path else None,
        )
        return run_id, rejects_path, output_path

    def _deliver(
        self,
        run: RunInfo | None,
        run_id: int,
        name: str,
        destination: Destination,
        rows: Iterable[Any],
        options: SendOptions,
        timeout: float,
    ) -> RunResult:
        """Send as this run's next attempt, skipping the rows a resumed run settled and,
        but for a validation run, the items the destination's index has as sent; a dry
        run opens no session."""
        attempt = self.store.start_attempt(run_id, os.getpid())
        settled = None
        if run is not None:
            settled = SettledRows((first, last) for first, last, _ in self.store.ledger(run_id))
        resumed = run is not None
        index = None
        window = destination.idempotency_window
        if window and indexed(destination) and options.sample is None:
            from ._sent_index import SentIndex  # numpy: loaded when an index is used

            index = SentIndex(self.store, name, window)
        args = (self.store, run_id, attempt, destination, rows)
        if options.dry_run:
            return run_delivery(*args, None, options, settled, resumed, name=name, index=index)
        with self.session(options.concurrency, timeout) as session:
            return run_delivery(*args, session, options, settled, resumed, name=name, index=index)

    # runs -----------------------------------------------------------------------

    def runs(
        self, destination: str | None = None, limit: int = 20, *, kind: str | None = None
    ) -> list[RunInfo]:
        """The latest ``limit`` runs, newest first, of one ``destination`` or all, of
        one ``kind`` (a ``RunKind``) or all; without their attempts (``attempts`` is
        None)."""
        if kind is not None:
            kind = RunKind(kind).value  # a kind that does not exist is a ValueError
        return [_run_info(record) for record in self.store.runs(destination, limit, kind)]

    def run(self, run_id: int) -> RunInfo:
        """The run ``run_id``, with ``attempts``: the first send and each resume.

        Raises NotFoundError when there is none."""
        record = self.store.run(run_id)
        return _run_info(record, self.store.attempts(run_id), self.store.ledger(run_id))


def _check_validation(dry_run: bool, resume: int | None, sample: int) -> None:
    if dry_run:
        raise AmpDestError(
            "a validation run sends its sample as test events and a dry run sends "
            "nothing: give one of validate and dry_run"
        )
    if resume is not None:
        raise AmpDestError("a validation run is not resumed: validate again, without resume")
    if not 1 <= sample <= MAX_SAMPLE:
        raise AmpDestError(f"the sample is 1 to {MAX_SAMPLE:,} rows, not {sample:,}")


def _fingerprint(path: str) -> str:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        raise InputError(f"input file {path} does not exist") from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    return f"{stat.st_size}:{stat.st_mtime_ns}"
