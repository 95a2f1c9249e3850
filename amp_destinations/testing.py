"""Helpers for testing plugins and programs that embed the host.

- ``MemoryKeyring``: a keyring held in a dict, so that no test touches the machine's
  keyring: ``Host(tmp_path, secrets=SecretStore(MemoryKeyring()))``.
- ``prepare_row`` and ``make_batch``: hand a destination a row, or build the batch its
  ``deliver`` gets, as the host would.
- ``refused_commands``: the ``amp-dest`` commands a hint quotes that the CLI would
  refuse, so that a test can check that a hint works when pasted.
- ``DestinationTests``: the standard test suite of a destination's contract with the
  host. A plugin's test module subclasses it, naming the destination, its settings, a
  credential and sample rows; pytest then runs every check. docs/plugins.md ("Testing
  it") walks through one.
"""

from __future__ import annotations

import contextlib
import math
import re
import shutil
import tempfile
import threading
import unittest
from collections.abc import Callable, Collection, Hashable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, NoReturn

import click
import httpx
import keyring.backend
import keyring.errors
import orjson
from marshmallow import Schema

from ._base import Credential, CredentialType, Destination
from ._batching import Batcher
from ._cli import build_cli
from ._cli_hints import quoted_commands, usage_error
from ._delivery import BatchSender, RetryPolicy, Throttle
from ._errors import InvalidFieldsError
from ._hookspecs import hookimpl
from ._host import Host
from ._http import make_session, retry_after_seconds
from ._names import check_name
from ._plugins import load_plugins
from ._registry import Register, Registry
from ._results import (
    Batch,
    BatchOutcome,
    ConnectionStatus,
    FailureType,
    ItemRejection,
    RecordError,
    RecordWarning,
)
from ._schemas import load_with
from ._secrets import SecretStore

__all__ = ["DestinationTests", "MemoryKeyring", "make_batch", "prepare_row", "refused_commands"]


def prepare_row(
    destination: Destination,
    row: Mapping[str, Any],
    warnings: list[RecordWarning] | None = None,
) -> Any:
    """``destination.prepare`` for a row given as a mapping, handed over as the host
    would: the row itself, or the tuple of the destination's ``fields`` (None for a
    column the row lacks)."""
    fields = destination.fields
    values: Mapping[str, Any] | tuple[Any, ...]
    values = row if fields is None else tuple(map(row.get, fields))
    return destination.prepare(values, [] if warnings is None else warnings)


def make_batch(destination: Destination, rows: Sequence[Mapping[str, Any]]) -> Batch:
    """The batch the host would hand to ``deliver`` for these rows: each prepared and
    encoded by the destination, numbered from 1. A row that ``prepare`` rejects is a
    mistake in the test and raises ValueError."""
    destination.start_run(None)
    items = []
    for number, row in enumerate(rows, 1):
        item = prepare_row(destination, row)
        if isinstance(item, RecordError):
            raise ValueError(f"row {number} was rejected: {item.code}: {item.message}")
        items.append(item)
    key = destination.batch_key(items[0]) if items else None
    return Batch.from_parts(destination, key, [destination.encode_item(item) for item in items])


def refused_commands(text: str, cli: click.Group | None = None) -> dict[str, str]:
    """The ``amp-dest ...`` command lines that ``text`` (a hint, a message) quotes
    between backticks and the CLI refuses, each with click's reason; ``{}`` when it
    accepts them all. ``cli`` is the group to parse with
    (``amp_destinations.cli.build_cli(registry)``), by default one with the installed
    plugins. Commands are parsed as click parses them before running: commands,
    options, arguments and their types; nothing runs."""
    commands = quoted_commands(text)
    if not commands:
        return {}
    cli = cli if cli is not None else build_cli()
    refused = {command: usage_error(cli, command) for command in commands}
    return {command: why for command, why in refused.items() if why is not None}


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring held in a dict, so that no test touches the machine's real keyring.
    ``entries`` maps (service, user name) to the secret, for assertions."""

    # Below the fail keyring's 0, so keyring's own discovery never picks it.
    priority = -1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # keyring is not annotated
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.entries:
            raise keyring.errors.PasswordDeleteError(username)
        del self.entries[(service, username)]


# -- the standard suite ---------------------------------------------------------------

Responder = Callable[[httpx.Request], httpx.Response]

# Methods that read. A connection test uses only these, unless the destination names a
# request that writes nothing in ``read_only_requests`` (a token exchange, say).
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# A stable reason code: dotted, lower case, e.g. "email.missing" or "acme.rejected".
_REASON_CODE = re.compile(r"[a-z0-9_]+(?:\.[a-z0-9_]+)+")
_KINDS = ("delivered", "retry", "rejected", "rejected_items", "fatal")
# Strings shorter than this are not taken as raw values by default: "US", "1", "Lead"
# may well appear in a message without quoting anyone's data.
_MIN_RAW_LENGTH = 5
# An encoded item shorter than this ("{}") would be found in any JSON body.
_MIN_PART_LENGTH = 8
# One attempt and no waiting: the suite wants the host's verdict on one answer.
_ONE_ATTEMPT = RetryPolicy(max_attempts=1, max_elapsed=0.0, base_delay=0.0, max_delay=0.0)
_CREDENTIAL_NAME = "suite-credential"


def _skip(reason: str) -> NoReturn:
    try:
        import pytest
    except ImportError:  # run without pytest: unittest's skip says the same
        raise unittest.SkipTest(reason) from None
    pytest.skip(reason)


def _quoted(text: object, values: Iterable[str]) -> str | None:
    """The first of ``values`` that ``text`` contains, compared case-insensitively (a
    message that lower-cases an address still quotes it); None when there is none."""
    folded = str(text).casefold()
    return next((value for value in values if value.casefold() in folded), None)


def _without_query(url: httpx.URL) -> str:
    return str(url.copy_with(query=None, fragment=None))


class _Remote:
    """Stands in for the remote system behind an ``httpx.MockTransport``: answers every
    request with ``respond`` and keeps them all, their bodies read, for assertions."""

    def __init__(self, respond: Responder) -> None:
        self.respond = respond
        self.requests: list[httpx.Request] = []
        # The session the destination is handed: the host's kind, on this transport.
        self.session = make_session(httpx.MockTransport(self.handle), concurrency=1)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.respond(request)


class _SuitePlugin:
    """Registers the classes under test when the suite is given no ``plugin``."""

    __name__ = "standard-suite"

    def __init__(self, destination: type[Destination], credential: type[CredentialType] | None):
        self._destination = destination
        self._credential = credential

    @hookimpl
    def register_credential_types(self, register: Register[CredentialType]) -> None:
        if self._credential is not None:
            register(self._credential)

    @hookimpl
    def register_destinations(self, register: Register[Destination]) -> None:
        register(self._destination)


class DestinationTests:
    """The standard tests of a destination's contract with the host.

    Subclass it in a test module, with a name pytest collects (``TestAcmeCrm``), and
    say what to test::

        class TestAcmeCrm(DestinationTests):
            destination_class = AcmeCrm
            credential_type_class = AcmeApiKey
            plugin = amp_acme_crm                      # optional: checks registration
            settings = {"list_id": "L1001"}           # as an operator gives them
            credential = {"api_key": "ak_test_123"}   # fields and secrets
            good_rows = [{"contact_id": "c1", "email": "ada@example.com"}]
            bad_rows = [({"contact_id": "c2", "email": "not-an-email"}, "email.invalid")]

    and, for an HTTP destination, how the remote system answers: override
    ``connection_response``, ``accepted_response``, ``auth_refused_response``,
    ``server_error_response`` and ``rate_limited_response`` where its answers differ
    from plain HTTP (an API that answers 200 with an error code in the body, say), and
    ``rejected_response`` and ``partly_rejected_response`` to check those outcomes.
    Each gets the ``httpx.Request`` and returns the ``httpx.Response``. Requests never
    leave the process: they go to an ``httpx.MockTransport``, through a session made
    as the host makes its own.

    A destination that makes no HTTP request (a file, a database) sets
    ``sends_http = False``: the checks of HTTP answers are then skipped, saying so,
    and every other check also asserts that no request was made.

    What "sends no record" means for ``test_connection``: every request it makes uses
    GET, HEAD or OPTIONS (or is listed in ``read_only_requests``), none goes to the
    method and URL that ``deliver`` sends batches to, and no request's URL or body
    contains an encoded item or a raw value of the good rows.

    What "never quotes a raw value" means: no code, field or message of a RecordError
    or RecordWarning, and no message of a BatchOutcome, contains a value of the rows
    (compared case-insensitively). The values are ``raw_values`` when given, otherwise
    every string of at least five characters in the rows concerned, except those equal
    to a setting or a credential field (messages may name a setting). No check, outcome
    or row message may contain a secret of the credential either.

    What "a hint that works when pasted" means: every ``amp-dest ...`` command line that
    a check (its message or hint) or an outcome's message quotes between backticks is
    one the ``amp-dest`` CLI, with the plugin's own commands, accepts as it parses a
    command line: commands, options, arguments and their types (nothing runs). Write
    ``NAME`` or ``FIELD`` where the operator fills something in.

    Every test builds a fresh destination with ``make_destination()``; ``tmp_path`` is
    a temporary directory for the test (settings may point into it: override
    ``destination_settings()``).
    """

    #: The Destination subclass under test.
    destination_class: ClassVar[type[Destination]]
    #: Its CredentialType subclass; required when the destination names a credential type.
    credential_type_class: ClassVar[type[CredentialType] | None] = None
    #: The plugin module or object whose hooks register them; when given, the suite
    #: loads it as the host does and checks what it registers.
    plugin: ClassVar[object | None] = None
    #: Settings as an operator gives them; the host's loader types and checks them.
    settings: ClassVar[Mapping[str, Any]] = {}
    #: The credential's fields and secrets, as an operator gives them.
    credential: ClassVar[Mapping[str, Any]] = {}
    #: Rows that ``prepare`` accepts. The deliver checks send them as one batch.
    good_rows: ClassVar[Sequence[Mapping[str, Any]]] = ()
    #: Rows that ``prepare`` rejects, each with the reason code it must carry.
    bad_rows: ClassVar[Sequence[tuple[Mapping[str, Any], str]]] = ()
    #: Values no message may contain; None: every string value of the rows (see above).
    raw_values: ClassVar[Sequence[str] | None] = None
    #: False for a destination that makes no HTTP request.
    sends_http: ClassVar[bool] = True
    #: False when ``deliver`` sends something other than ``batch.body`` (compressed or
    #: signed): a dry run, which writes ``batch.body`` out, then shows another body.
    sends_batch_body: ClassVar[bool] = True
    #: (method, URL or path) of requests other than GET, HEAD and OPTIONS that
    #: ``test_connection`` may send because they write nothing (a token exchange).
    read_only_requests: ClassVar[Collection[tuple[str, str]]] = ()

    _tmp: str | None = None

    # -- pytest's per-test setup ------------------------------------------------------

    def setup_method(self, method: object = None) -> None:
        self._tmp = None
        assert isinstance(getattr(self, "destination_class", None), type), (
            f"{type(self).__name__} must set destination_class to the Destination it tests"
        )

    def teardown_method(self, method: object = None) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    @property
    def tmp_path(self) -> Path:
        """A temporary directory for this test, removed after it."""
        if self._tmp is None:
            self._tmp = tempfile.mkdtemp(prefix="amp-dest-suite-")
        return Path(self._tmp)

    # -- what a subclass may override -------------------------------------------------

    def destination_settings(self) -> Mapping[str, Any]:
        """The settings to test with: ``settings`` unless overridden."""
        return self.settings

    def make_credential(self) -> Credential | None:
        """The credential the host would build from ``credential``, loaded by the
        credential type's schema; None for a destination that needs none."""
        needed = self.destination_class.credential_type
        if needed is None:
            return None
        credential_type = self.credential_type_class
        assert credential_type is not None, (
            f"{self.destination_class.__name__} needs a {needed!r} credential: set "
            "credential_type_class, and credential to its fields and secrets"
        )
        loaded = load_with(credential_type.schema, self.credential, f"credential for {needed}")
        return Credential(_CREDENTIAL_NAME, credential_type(), loaded)

    def make_destination(self) -> Destination:
        """A fresh destination, its settings loaded as the host loads them."""
        cls = self.destination_class
        loaded = load_with(
            cls.settings_schema, self.destination_settings(), f"settings for {cls.name}"
        )
        return cls(loaded, self.make_credential())

    def connection_response(self, request: httpx.Request) -> httpx.Response:
        """A healthy remote system's answer to ``test_connection``'s requests."""
        return self.accepted_response(request)

    def accepted_response(self, request: httpx.Request) -> httpx.Response:
        """The answer to a batch the remote system accepted."""
        return httpx.Response(200, json={})

    def auth_refused_response(self, request: httpx.Request) -> httpx.Response:
        """The answer to a request whose credential the remote system refuses."""
        return httpx.Response(401, json={"error": "invalid credentials"})

    def server_error_response(self, request: httpx.Request) -> httpx.Response:
        """The answer of a remote system that is down for a while."""
        return httpx.Response(503, json={"error": "service unavailable"})

    def rate_limited_response(self, request: httpx.Request) -> httpx.Response:
        """The answer of a remote system that asks to slow down, with its delay."""
        return httpx.Response(429, headers={"Retry-After": "7"}, json={"error": "slow down"})

    def rejected_response(self, request: httpx.Request) -> httpx.Response:
        """The answer refusing a whole batch (one bad item spoils it), which the host
        splits. Not overridden: the remote system has no such answer, and the check
        is skipped, saying so."""
        raise NotImplementedError

    def partly_rejected_response(self, request: httpx.Request) -> httpx.Response:
        """The answer accepting a batch but for some of its items, which it names (name
        the last one, read from the request, and an index counted wrong shows). Not
        overridden: the remote system has no such answer, and the check is skipped."""
        raise NotImplementedError

    def check_body(self, body: bytes, frame: tuple[bytes, bytes, bytes]) -> None:
        """Check one request body. By default: a body whose frame opens a JSON array or
        object must parse as JSON, and so must every line of a newline-separated body
        whose items are JSON (JSON Lines). Override it for another format."""
        head, separator, _tail = frame
        if head.lstrip()[:1] in (b"[", b"{"):
            try:
                orjson.loads(body)
            except orjson.JSONDecodeError as exc:
                raise AssertionError(f"the request body is not valid JSON: {exc}") from None
        elif separator == b"\n":
            lines = body[len(head) :].splitlines()
            for number, line in enumerate(lines, 1):
                try:
                    orjson.loads(line)
                except orjson.JSONDecodeError as exc:
                    if number == 1:
                        return  # not JSON Lines: check_body knows no more of the format
                    raise AssertionError(
                        f"line {number} of a JSON Lines body is not JSON (an item with a "
                        f"newline in its encoding?): {exc}"
                    ) from None

    # -- the checks -------------------------------------------------------------------

    def test_declares_its_names_and_limits(self) -> None:
        cls = self.destination_class
        name = getattr(cls, "name", None)
        try:
            check_name(name, "destination type")
        except InvalidFieldsError:
            raise AssertionError(
                f"{cls.__name__}.name is {name!r}: a destination type's key is typed in "
                "commands, so it is 1 to 64 letters, digits, '.', '_' or '-'"
            ) from None
        assert isinstance(getattr(cls, "title", None), str) and cls.title.strip(), (
            f"{cls.__name__} needs a title: operators read it in `amp-dest plugins list`"
        )
        schema = getattr(cls, "settings_schema", None)
        assert isinstance(schema, type) and issubclass(schema, Schema), (
            f"{cls.__name__}.settings_schema must be a marshmallow Schema class"
        )
        needed = cls.credential_type
        if needed is not None:
            credential_type = self.credential_type_class
            assert credential_type is not None and issubclass(credential_type, CredentialType), (
                f"{cls.__name__} needs a {needed!r} credential: set credential_type_class"
            )
            assert credential_type.name == needed, (
                f"credential_type_class is {credential_type.name!r}, but "
                f"{cls.__name__}.credential_type is {needed!r}"
            )
            assert isinstance(getattr(credential_type, "title", None), str), (
                f"{credential_type.__name__} needs a title"
            )
        destination = self.make_destination()
        size = destination.max_batch_size
        assert isinstance(size, int) and not isinstance(size, bool) and size >= 1, (
            f"max_batch_size is {size!r}: it must be a whole number of items, at least 1"
        )
        cap = destination.max_batch_bytes
        assert cap is None or (isinstance(cap, int) and cap > 0), (
            f"max_batch_bytes is {cap!r}: a number of bytes, or None for no cap"
        )
        fields = destination.fields
        if fields is not None:
            assert not isinstance(fields, str) and all(isinstance(f, str) for f in fields), (
                f"fields is {fields!r}: a tuple of column names"
            )
            assert len(set(fields)) == len(fields), f"fields names a column twice: {fields!r}"
        assert destination.id_field is None or isinstance(destination.id_field, str)
        for label, alternatives in destination.identifiers.items():
            assert isinstance(label, str) and not isinstance(alternatives, str), (
                f"identifiers[{label!r}] must be a tuple of alternatives"
            )
            for alternative in alternatives:
                assert (
                    not isinstance(alternative, str)
                    and alternative
                    and all(isinstance(column, str) for column in alternative)
                ), (
                    f"identifiers[{label!r}] holds {alternative!r}: each alternative is a "
                    'tuple of columns, ("email",) rather than ("email")'
                )
        assert self.good_rows, (
            "good_rows is empty: give rows that prepare accepts (two or more make a batch)"
        )

    def test_settings_load_and_export_to_json_schema_with_secrets_marked(self) -> None:
        cls = self.destination_class
        try:
            self.make_destination()
        except InvalidFieldsError as exc:
            raise AssertionError(
                f"the settings do not load as the host loads them: {exc}"
            ) from None
        settings_secrets = [
            name
            for name, field in cls.settings_schema._declared_fields.items()
            if field.metadata.get("secret")
        ]
        assert not settings_secrets, (
            f"settings {settings_secrets} are marked secret: settings are stored and shown "
            "in the open and a secret setting is never stored; secrets belong in the "
            "credential type"
        )
        registry = self._registry()
        with Host(
            self.tmp_path / "home", registry=registry, secrets=SecretStore(MemoryKeyring())
        ) as host:
            exported = host.schema(cls.name)
        orjson.dumps(exported)  # `amp-dest destinations schema` prints it as JSON
        properties = exported["settings"]["properties"]
        for name, field in cls.settings_schema._declared_fields.items():
            assert (field.data_key or name) in properties, f"setting {name} is not exported"
        credential_type = self.credential_type_class
        if cls.credential_type is None or credential_type is None:
            assert exported["credential"] is None
            return
        secret_names = credential_type.secret_fields()
        exported_fields = exported["credential"]["properties"]
        for name in secret_names:
            field = credential_type.schema._declared_fields[name]
            shown = exported_fields[field.data_key or name]
            assert shown.get("writeOnly") is True, (
                f"secret {name} is not writeOnly in the JSON Schema; declare it with "
                "amp_destinations.Secret()"
            )
            assert shown.get("default") is None, (
                f"secret {name} has a default, which the JSON Schema prints: a secret comes "
                "from the operator, never from the code"
            )
            assert field.load_only, f"secret {name} is not load_only: a dump would print it"
        loaded = load_with(credential_type.schema, self.credential, "the credential")
        dumped = credential_type.schema().dump(loaded)
        leaked = [name for name in secret_names if name in dumped]
        assert not leaked, f"dumping the credential prints its secrets {leaked}"

    def test_connection_passes_against_a_remote_system_that_accepts(self) -> None:
        destination = self.make_destination()
        with self._session(self.connection_response) as remote:
            status = destination.test_connection(remote.session)
        self._check_status(status)
        failed = status.first_failure
        assert status.ok, "test_connection failed against connection_response(): " + (
            f"{failed.name}: {failed.message} ({failed.hint})" if failed else "no checks"
        )

    def test_connection_sends_no_record(self) -> None:
        delivery_targets = self._delivery_targets() if self.sends_http else set()
        destination = self.make_destination()
        with self._session(self.connection_response) as remote:
            destination.test_connection(remote.session)
        if not self.sends_http:
            return  # and _session saw no request
        values = self._raw_values(self.good_rows)
        parts = [part for part in self._good_parts() if len(part) >= _MIN_PART_LENGTH]
        allowed = set(self.read_only_requests)
        for request in remote.requests:
            method, url = request.method, _without_query(request.url)
            where = f"{method} {url}"
            assert (
                method in _READ_METHODS
                or (method, url) in allowed
                or (method, request.url.path) in allowed
            ), (
                f"test_connection sent {where}: a connection test only reads (GET, HEAD, "
                "OPTIONS); list a request that writes nothing in read_only_requests"
            )
            assert (method, url) not in delivery_targets, (
                f"test_connection sent {where}, where deliver sends batches"
            )
            content = request.content
            carried = next((part for part in parts if part in content), None)
            assert carried is None, f"test_connection sent an encoded item in {where}"
            quoted = _quoted(str(request.url) + content.decode("utf-8", "replace"), values)
            assert quoted is None, f"test_connection sent the row value {quoted!r} in {where}"

    def test_connection_reports_a_refused_credential_as_auth(self) -> None:
        self._needs_http("a refused credential")
        self._needs_credential()
        destination = self.make_destination()
        with self._session(self.auth_refused_response) as remote:
            status = destination.test_connection(remote.session)
        self._check_status(status)
        assert not status.ok, "test_connection passed although every request was refused"
        failed = status.first_failure
        assert status.failure is FailureType.AUTH, (
            f"a refused credential fails check {failed.name if failed else None!r} with "
            f"{status.failure}; make it FailureType.AUTH, so that the operator fixes the "
            "credential"
        )

    def test_connection_reports_an_unreachable_remote_system_as_transient(self) -> None:
        self._needs_http("an unreachable remote system")
        destination = self.make_destination()
        with self._session(_refuse_connection) as remote:
            try:
                status = destination.test_connection(remote.session)
            except httpx.TransportError as exc:
                raise AssertionError(
                    f"test_connection raised {type(exc).__name__}: catch httpx.TransportError "
                    "and fail a check with FailureType.TRANSIENT"
                ) from None
        self._check_status(status)
        assert status.failure is FailureType.TRANSIENT, (
            f"a connection that cannot be made fails with {status.failure}; make it "
            "FailureType.TRANSIENT (try again later)"
        )

    def test_prepare_turns_good_rows_into_items(self) -> None:
        destination = self.make_destination()
        destination.start_run(None)
        assert self.good_rows, "good_rows is empty"
        for number, row in enumerate(self.good_rows, 1):
            warnings: list[RecordWarning] = []
            item = prepare_row(destination, row, warnings)
            assert not isinstance(item, RecordError), (
                f"good row {number} was rejected: {item.code}: {item.message}"
            )
            for warning in warnings:
                self._check_reason(warning, f"a warning on good row {number}", RecordWarning)
            key = destination.batch_key(item)
            try:
                hash(key)
            except TypeError:
                raise AssertionError(f"batch_key of good row {number} is not hashable") from None
            part = destination.encode_item(item)
            assert isinstance(part, bytes) and part, (
                f"encode_item of good row {number} gave {type(part).__name__}, not bytes"
            )

    def test_prepare_rejects_bad_rows_with_stable_reason_codes(self) -> None:
        if not self.bad_rows:
            _skip(
                "bad_rows is empty: give rows that prepare must reject, each with its reason "
                "code (a destination that refuses no row has none)"
            )
        destination = self.make_destination()
        destination.start_run(None)
        for number, (row, code) in enumerate(self.bad_rows, 1):
            verdict = prepare_row(destination, row)
            assert isinstance(verdict, RecordError) and not isinstance(verdict, RecordWarning), (
                f"bad row {number} was not rejected: prepare returned {type(verdict).__name__}"
            )
            self._check_reason(verdict, f"the RecordError of bad row {number}", RecordError)
            assert verdict.code == code, (
                f"bad row {number} was rejected with {verdict.code!r}, not {code!r}"
            )

    def test_prepare_messages_never_quote_a_raw_value(self) -> None:
        destination = self.make_destination()
        destination.start_run(None)
        rows = [("good", row) for row in self.good_rows] + [("bad", r) for r, _ in self.bad_rows]
        secrets = self._secrets()
        for number, (kind, row) in enumerate(rows, 1):
            warnings: list[RecordWarning] = []
            verdict = prepare_row(destination, row, warnings)
            reasons: list[RecordError] = list(warnings)
            if isinstance(verdict, RecordError):
                reasons.append(verdict)
            values = self._raw_values([row])
            for reason in reasons:
                what = f"{type(reason).__name__} {reason.code!r} of {kind} row {number}"
                for part in (reason.code, reason.field or "", reason.message):
                    quoted = _quoted(part, values)
                    assert quoted is None, f"{what} quotes the raw value {quoted!r}: {part!r}"
                    assert _quoted(part, secrets) is None, f"{what} contains a secret"

    def test_batches_are_valid_bodies_within_the_limits(self) -> None:
        destination = self.make_destination()
        batches = self._good_batches(destination, fill=True)
        size, cap = destination.max_batch_size, destination.max_batch_bytes
        for batch in batches:
            assert len(batch) <= size
            frame = destination.batch_frame(batch.key)
            assert isinstance(frame, tuple) and len(frame) == 3, (
                "batch_frame must return (head, separator, tail)"
            )
            assert all(isinstance(piece, bytes) for piece in frame), (
                "batch_frame must return three bytes objects"
            )
            head, separator, tail = frame
            body = batch.body
            assert body == head + separator.join(batch.parts) + tail, (
                "the body is not head + separator.join(items) + tail: does batch_frame "
                "return the same frame for the same key every time?"
            )
            if cap is not None:
                assert len(body) <= cap, f"a body of {len(body)} bytes exceeds max_batch_bytes"
            self.check_body(body, frame)

    def test_deliver_reports_an_accepted_batch_as_delivered(self) -> None:
        outcome, batch, remote = self._deliver(self.accepted_response)
        assert outcome.kind == "delivered", (
            f"deliver made {self._describe(outcome)} of accepted_response()"
        )
        if not self.sends_http:
            return  # and _session saw no request
        assert remote.requests, "deliver sent no request"
        if self.sends_batch_body:
            assert any(request.content == batch.body for request in remote.requests), (
                "no request carried batch.body as it is: a dry run writes batch.body out as "
                "the exact request; set sends_batch_body = False if deliver must send "
                "another body"
            )

    def test_deliver_retries_after_a_transport_error(self) -> None:
        self._needs_http("transport errors")
        for refuse in (_refuse_connection, _time_out):
            outcome, _, _ = self._deliver(refuse)
            assert outcome.kind == "retry", (
                f"a request that failed with {refuse.__doc__} became {self._describe(outcome)}: "
                "whether it arrived is unknown, so it is a retry (let httpx.TransportError "
                "propagate, the host retries it, or return BatchOutcome.retry)"
            )

    def test_deliver_retries_a_server_error(self) -> None:
        self._needs_http("server errors")
        outcome, _, _ = self._deliver(self.server_error_response)
        assert outcome.kind == "retry", (
            f"deliver made {self._describe(outcome)} of server_error_response(): a remote "
            "system that is down is a BatchOutcome.retry"
        )

    def test_deliver_retries_a_rate_limit_slowing_the_run(self) -> None:
        self._needs_http("rate limits")
        answers: list[httpx.Response] = []

        def respond(request: httpx.Request) -> httpx.Response:
            answers.append(self.rate_limited_response(request))
            return answers[-1]

        outcome, _, _ = self._deliver(respond)
        assert outcome.kind == "retry", (
            f"deliver made {self._describe(outcome)} of rate_limited_response(): a rate "
            "limit is a BatchOutcome.retry"
        )
        assert outcome.throttled, (
            "a rate limit should be BatchOutcome.retry(..., throttled=True), so that the "
            "host slows the whole run rather than one batch"
        )
        delay = retry_after_seconds(answers[-1].headers.get("Retry-After")) if answers else None
        if delay is not None:
            assert outcome.retry_after == delay, (
                f"the answer said Retry-After {delay:g} s, the outcome retry_after="
                f"{outcome.retry_after}: read it with amp_destinations.retry_after_seconds"
            )

    def test_deliver_stops_the_run_when_the_credential_is_refused(self) -> None:
        self._needs_http("a refused credential")
        self._needs_credential()
        outcome, _, _ = self._deliver(self.auth_refused_response)
        assert outcome.kind == "fatal" and outcome.failure is FailureType.AUTH, (
            f"deliver made {self._describe(outcome)} of auth_refused_response(): no later "
            "batch can succeed, so it is BatchOutcome.fatal(message, FailureType.AUTH)"
        )

    def test_deliver_reports_a_refused_batch_as_rejected(self) -> None:
        self._needs_http("a refused batch")
        respond = self._optional("rejected_response")
        outcome, _, _ = self._deliver(respond)
        assert outcome.kind == "rejected", (
            f"deliver made {self._describe(outcome)} of rejected_response(), not rejected"
        )

    def test_deliver_reports_items_refused_one_by_one(self) -> None:
        self._needs_http("items refused one by one")
        respond = self._optional("partly_rejected_response")
        outcome, _, _ = self._deliver(respond)
        assert outcome.kind == "rejected_items", (
            f"deliver made {self._describe(outcome)} of partly_rejected_response(), not "
            "rejected_items"
        )
        assert outcome.rejections, "rejected_items names no item"

    def test_outcomes_add_up(self) -> None:
        """Whatever the answer, the outcome accounts for the batch (the items a
        rejected_items outcome names are items of the batch, so delivered and rejected
        make up its length), and through the host's own sender every row of the batch
        ends in exactly one place: delivered, rejected or pending."""
        answers: list[tuple[str, Responder]] = [("accepted_response", self.accepted_response)]
        if self.sends_http:
            answers += [
                ("server_error_response", self.server_error_response),
                ("rate_limited_response", self.rate_limited_response),
                ("a refused connection", _refuse_connection),
            ]
            if self.destination_class.credential_type is not None:
                answers.append(("auth_refused_response", self.auth_refused_response))
            for name in ("rejected_response", "partly_rejected_response"):
                if self._overrides(name):
                    answers.append((name, getattr(self, name)))
        for name, respond in answers:
            outcome, batch, _ = self._deliver(respond)  # checks the outcome's figures
            if outcome.kind == "rejected_items":
                refused = {rejection.index for rejection in outcome.rejections}
                delivered = set(range(len(batch))) - refused
                assert len(delivered) + len(refused) == len(batch), (
                    f"after {name}, {len(delivered)} items delivered and {len(refused)} "
                    f"rejected do not make up the batch of {len(batch)}"
                )
            destination = self.make_destination()
            with self._session(respond) as remote:
                sender = BatchSender(
                    destination, remote.session, _ONE_ATTEMPT, Throttle(1), threading.Event()
                )
                result = sender.send(batch)
            settled = sorted(
                [*result.delivered, *(row for row, *_ in result.rejected), *result.pending]
            )
            assert settled == sorted(batch.rows), (
                f"after {name}, rows {sorted(batch.rows)} ended as delivered "
                f"{result.delivered}, rejected {[row for row, *_ in result.rejected]}, "
                f"pending {result.pending}"
            )

    # -- helpers ----------------------------------------------------------------------

    def _registry(self) -> Registry:
        cls = self.destination_class
        plugin = self.plugin
        if plugin is None:
            plugin = _SuitePlugin(cls, self.credential_type_class)
        registry = load_plugins(entry_points=False, builtins=False, extra=[plugin], strict=True)
        if self.plugin is not None:
            assert registry.destinations.get(cls.name) is cls, (
                f"the plugin does not register {cls.__name__} as {cls.name!r}"
            )
            credential_type = self.credential_type_class
            if cls.credential_type is not None and credential_type is not None:
                assert registry.credential_types.get(credential_type.name) is credential_type, (
                    f"the plugin does not register {credential_type.__name__}"
                )
        return registry

    @contextlib.contextmanager
    def _session(self, respond: Responder) -> Iterator[_Remote]:
        remote = _Remote(respond)
        with remote.session:
            yield remote
        if not self.sends_http:
            assert remote.requests == [], self._http_made(remote)

    def _good_batches(self, destination: Destination, fill: bool = False) -> list[Batch]:
        """The good rows prepared, encoded and batched by the host's batcher, in the
        order the batches fill. With ``fill``, the rows are cycled through until a
        batch is full (up to 5,000 items), to reach the limits."""
        destination.start_run(None)
        assert self.good_rows, "good_rows is empty"
        prepared: list[tuple[Hashable, int, object, bytes]] = []
        id_field = destination.id_field
        for number, row in enumerate(self.good_rows, 1):
            item = prepare_row(destination, row)
            assert not isinstance(item, RecordError), (
                f"good row {number} was rejected: {item.code}: {item.message}"
            )
            record_id = row.get(id_field) if id_field else None
            prepared.append(
                (destination.batch_key(item), number, record_id, _encoded(destination, item))
            )
        batches: list[Batch] = []
        batcher = Batcher(destination, batches.append)
        count = min(destination.max_batch_size + 1, 5000) if fill else len(prepared)
        for index in range(max(count, len(prepared))):
            key, number, record_id, part = prepared[index % len(prepared)]
            fits = batcher.add(key, number if index < len(prepared) else index + 1, record_id, part)
            assert fits, (
                f"good row {number} alone makes a request body larger than max_batch_bytes "
                f"({destination.max_batch_bytes}): every such row would be rejected"
            )
        batcher.flush_all()
        return batches

    def _good_parts(self) -> list[bytes]:
        destination = self.make_destination()
        destination.start_run(None)
        parts = []
        for row in self.good_rows:
            item = prepare_row(destination, row)
            if not isinstance(item, RecordError):
                parts.append(_encoded(destination, item))
        return parts

    def _deliver(self, respond: Responder) -> tuple[BatchOutcome, Batch, _Remote]:
        """The host's verdict on one attempt to deliver the first batch of good rows:
        what ``deliver`` returned, a retry for an httpx.TransportError it let through,
        or a fatal system failure for any other exception."""
        destination = self.make_destination()
        batch = self._good_batches(destination)[0]
        with self._session(respond) as remote:
            sender = BatchSender(
                destination, remote.session, _ONE_ATTEMPT, Throttle(1), threading.Event()
            )
            outcome = sender._attempt(batch)
        self._check_outcome(outcome, batch)
        return outcome, batch, remote

    def _delivery_targets(self) -> set[tuple[str, str]]:
        """(method, URL) of the requests that carry a batch when deliver sends one."""
        try:
            _, batch, remote = self._deliver(self.accepted_response)
        except AssertionError:
            return set()  # deliver's own checks report it
        parts = [part for part in batch.parts if len(part) >= _MIN_PART_LENGTH]
        return {
            (request.method, _without_query(request.url))
            for request in remote.requests
            if request.content == batch.body or any(part in request.content for part in parts)
        }

    def _check_status(self, status: object) -> None:
        assert isinstance(status, ConnectionStatus), (
            f"test_connection returned {type(status).__name__}, not a ConnectionStatus"
        )
        assert status.checks, "test_connection returned no checks"
        secrets = self._secrets()
        for check in status.checks:
            assert check.name, "every check has a name"
            if not check.ok:
                assert check.hint, f"failed check {check.name!r} has no hint saying what to do"
                assert isinstance(check.failure, FailureType), (
                    f"failed check {check.name!r} has no FailureType"
                )
            for text in (check.name, check.message, check.hint):
                assert _quoted(text, secrets) is None, f"check {check.name!r} shows a secret"
                self._check_commands(text, f"check {check.name!r}")

    def _check_outcome(self, outcome: object, batch: Batch) -> None:
        assert isinstance(outcome, BatchOutcome), (
            f"deliver returned {type(outcome).__name__}, not a BatchOutcome"
        )
        assert outcome.kind in _KINDS, f"unknown outcome kind {outcome.kind!r}"
        if outcome.kind == "retry" and outcome.retry_after is not None:
            delay = outcome.retry_after
            assert math.isfinite(delay) and delay >= 0, f"retry_after is {delay!r}"
        if outcome.kind == "fatal":
            assert isinstance(outcome.failure, FailureType), "a fatal outcome has no FailureType"
        if outcome.kind == "rejected":
            assert _REASON_CODE.fullmatch(outcome.code), (
                f"rejected carries code {outcome.code!r}; give a stable dotted reason code "
                "such as 'acme.rejected' (it lands in the rejects file)"
            )
        texts: list[str] = [outcome.message, outcome.note]
        if outcome.kind == "rejected_items":
            for rejection in outcome.rejections:
                assert isinstance(rejection, ItemRejection), "rejections are ItemRejection"
                assert 0 <= rejection.index < len(batch), (
                    f"ItemRejection index {rejection.index} is outside the batch of "
                    f"{len(batch)} (indexes count from 0 in the batch, not input rows): "
                    "the host would count the refused item as delivered"
                )
                assert _REASON_CODE.fullmatch(rejection.code), (
                    f"ItemRejection code {rejection.code!r} is not a dotted reason code"
                )
                texts.append(rejection.message)
        rows = [self.good_rows[(row - 1) % len(self.good_rows)] for row in batch.rows]
        values, secrets = self._raw_values(rows), self._secrets()
        for text in texts:
            quoted = _quoted(text, values)
            assert quoted is None, (
                f"the {outcome.kind} outcome's message quotes the row value {quoted!r}: "
                f"{text!r} (outcomes land in the run record and the rejects file)"
            )
            assert _quoted(text, secrets) is None, f"the {outcome.kind} outcome shows a secret"
            self._check_commands(text, f"the {outcome.kind} outcome")

    def _check_commands(self, text: str, where: str) -> None:
        if not quoted_commands(text):
            return
        for command, problem in refused_commands(text, build_cli(self._registry())).items():
            raise AssertionError(
                f"{where} tells the operator to run `{command}`, which amp-dest refuses: {problem}"
            )

    def _check_reason(self, reason: RecordError, what: str, kind: type[RecordError]) -> None:
        assert isinstance(reason, kind), f"{what} is a {type(reason).__name__}"
        assert isinstance(reason.code, str) and _REASON_CODE.fullmatch(reason.code), (
            f"{what} has code {reason.code!r}: give a stable, dotted reason code such as "
            "'email.invalid' and document it"
        )
        assert reason.field is None or isinstance(reason.field, str), (
            f"{what}: field {reason.field!r}"
        )
        assert isinstance(reason.message, str) and reason.message.strip(), f"{what} has no message"

    def _secrets(self) -> list[str]:
        credential_type = self.credential_type_class
        if credential_type is None or self.destination_class.credential_type is None:
            return []
        names = credential_type.secret_fields()
        return [
            value
            for name, value in self.credential.items()
            if name in names and isinstance(value, str) and len(value) >= 4
        ]

    def _raw_values(self, rows: Iterable[Mapping[str, Any]]) -> list[str]:
        if self.raw_values is not None:
            return [value for value in self.raw_values if value]
        known = {
            str(value).strip().casefold()
            for source in (self.destination_settings(), self.credential)
            for value in source.values()
            if isinstance(value, str)
        }
        found: list[str] = []
        for row in rows:
            for value in row.values():
                if isinstance(value, str):
                    text = value.strip()
                    if (
                        len(text) >= _MIN_RAW_LENGTH
                        and text.casefold() not in known
                        and text not in found
                    ):
                        found.append(text)
        return found

    def _needs_http(self, what: str) -> None:
        if not self.sends_http:
            _skip(
                f"{self.destination_class.__name__} sets sends_http = False: it makes no "
                f"HTTP request, so there are no answers to {what} to classify"
            )

    def _needs_credential(self) -> None:
        if self.destination_class.credential_type is None:
            _skip(f"{self.destination_class.__name__} needs no credential, so none is refused")

    def _overrides(self, name: str) -> bool:
        return getattr(type(self), name) is not getattr(DestinationTests, name)

    def _optional(self, name: str) -> Responder:
        if not self._overrides(name):
            _skip(f"{name}() is not overridden: give the remote system's answer to check it")
        respond: Responder = getattr(self, name)
        return respond

    @staticmethod
    def _describe(outcome: BatchOutcome) -> str:
        text = f"'{outcome.kind}'"
        if outcome.failure is not None:
            text += f" ({outcome.failure.value})"
        return text + (f": {outcome.message}" if outcome.message else "")

    @staticmethod
    def _http_made(remote: _Remote) -> str:
        sent = ", ".join(f"{r.method} {_without_query(r.url)}" for r in remote.requests)
        return f"sends_http is False, yet the destination sent {sent}"


def _refuse_connection(request: httpx.Request) -> httpx.Response:
    """httpx.ConnectError"""
    raise httpx.ConnectError("connection refused", request=request)


def _time_out(request: httpx.Request) -> httpx.Response:
    """httpx.ReadTimeout"""
    raise httpx.ReadTimeout("timed out", request=request)


def _encoded(destination: Destination, item: Any) -> bytes:
    part = destination.encode_item(item)
    assert isinstance(part, bytes), f"encode_item returned {type(part).__name__}, not bytes"
    return part
