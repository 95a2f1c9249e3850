"""The small base classes a plugin subclasses: CredentialType, Destination, Reader.

A plugin author overrides a handful of methods; the host does the rest (validation,
secrets, batching, retries, splitting, run records). See docs/plugins.md.

No ``from __future__ import annotations`` here: the classes' own annotations are
real objects, so ``typing.get_type_hints`` resolves them although the classes say
they live in ``amp_destinations``.
"""

from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import orjson
from marshmallow import Schema

from ._errors import AmpDestError
from ._public import public
from ._results import Batch, BatchOutcome, ConnectionStatus, RecordError, RecordWarning

if TYPE_CHECKING:
    import httpx

    from ._authorize import AuthorizationFlow, Choice

__all__ = ["CredentialType", "Credential", "Destination", "Reader"]


def secret_field_names(schema: type[Schema]) -> list[str]:
    """Fields marked ``metadata={"secret": True}``: they live in the keyring only."""
    return [
        name
        for name, declared in schema._declared_fields.items()
        if declared.metadata.get("secret")
    ]


@public
class CredentialType:
    """A kind of credential: its name, its title, and the schema of its fields.

    Mark secret fields with ``metadata={"secret": True}`` (``amp_destinations.Secret``
    does it and makes them ``load_only``); the host keeps them in the keyring.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    schema: ClassVar[type[Schema]]
    # An OAuth 2.0 authorization-code flow that creates and renews credentials of this
    # type (``amp-dest credentials authorize``), or None: see AuthorizationFlow.
    authorization: ClassVar["type[AuthorizationFlow] | None"] = None

    @classmethod
    def secret_fields(cls) -> list[str]:
        return secret_field_names(cls.schema)


@public
class Credential:
    """A stored credential as a destination sees it: fields and secrets by name.

    ``repr`` and ``str`` never show a secret. ``rotate`` persists new secret values
    (a refreshed token, say) atomically through the host. ``facts`` are what an
    authorization said about the account (``Authorization.facts``), empty otherwise.
    """

    __slots__ = ("name", "type", "facts", "_values", "_secret_names", "_persist")

    def __init__(
        self,
        name: str,
        type: CredentialType,
        values: Mapping[str, Any],
        persist: Callable[[str, dict[str, str]], None] | None = None,
        facts: Mapping[str, Any] | None = None,
    ):
        self.name = name
        self.type = type
        self.facts: Mapping[str, Any] = dict(facts or {})
        self._values = dict(values)
        self._secret_names = frozenset(type.secret_fields())
        self._persist = persist

    def __getitem__(self, field: str) -> Any:
        return self._values[field]

    def get(self, field: str, default: Any = None) -> Any:
        value = self._values.get(field)
        return default if value is None else value

    def rotate(self, new_secrets: Mapping[str, str]) -> None:
        unknown = set(new_secrets) - self._secret_names
        if unknown:
            raise ValueError(f"not secret fields of {self.type.name}: {sorted(unknown)}")
        if self._persist is not None:
            self._persist(self.name, dict(new_secrets))
        self._values.update(new_secrets)

    def __repr__(self) -> str:
        shown = {k: v for k, v in self._values.items() if k not in self._secret_names}
        return f"<Credential {self.name!r} {self.type.name} {shown}>"

    __str__ = __repr__


@public
class Destination:
    """A remote system that receives records. Subclass it and register the class.

    The host builds one instance per configured destination, from settings already
    loaded by ``settings_schema`` and the credential (None when ``credential_type`` is
    None). Override:

    - ``test_connection(session)``: read-only checks; never send a record.
    - ``prepare(row, warnings)``: the hot path. Turn one input row into one item, or
      return a ``RecordError``. Append ``RecordWarning`` objects to ``warnings`` for
      optional fields you dropped. Compile what you can in ``start_run`` so that this
      is plain Python. The row is a mapping of column to value
      (``Mapping[str, Any]``), unless the class declares ``fields``: then it is a tuple
      of those columns' values, in that order, None for a column the input lacks
      (``tuple[Any, ...]``, the faster way: no dict per row). Annotate your override
      with the one your class receives; the base method takes ``Any`` so that both
      type-check.
    - ``deliver(batch, session)``: send ``batch.body`` and classify the answer as a
      ``BatchOutcome``. ``session`` is the host's pooled ``httpx.Client``.

    and optionally ``on_save``, ``required_columns``, ``start_run``, ``batch_key``,
    ``encode_item``, ``batch_frame``, ``start_test_events``, and ``idempotency_key``
    with ``idempotency_window`` for the host's sent-events index.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    credential_type: ClassVar[str | None] = None
    settings_schema: ClassVar[type[Schema]]
    # Limits of one request. The host reads them from the instance, so a class sets
    # its default and ``__init__`` may set another from the settings.
    max_batch_size: int = 500
    max_batch_bytes: int | None = None
    # The input columns prepare reads, when it takes them as a tuple (see above).
    fields: ClassVar[Sequence[str] | None] = None
    # The input column that identifies a record, copied into the rejects file.
    id_field: ClassVar[str | None] = None
    # Identifier coverage for the run summary: label -> alternatives, each a tuple of
    # input columns that must all be non-empty, e.g. {"ip with user agent": (("ip", "agent"),)}.
    identifiers: ClassVar[Mapping[str, Sequence[Sequence[str]]]] = {}
    # Settings whose values ``choices`` can list from the remote system.
    choosable: ClassVar[tuple[str, ...]] = ()
    # Seconds within which the remote system would take an item delivered before as a
    # new one (TikTok: the oldest event it accepts, plus the clock skew it allows). With
    # ``idempotency_key``, the host keeps an index of the items delivered and skips
    # those delivered within this window. None: no index. Read from the instance.
    idempotency_window: float | None = None

    def __init__(self, settings: Mapping[str, Any], credential: Credential | None = None):
        self.settings = dict(settings)
        self.credential = credential

    @classmethod
    def choices(
        cls,
        setting: str,
        credential: Credential | None,
        settings: Mapping[str, Any],
        session: "httpx.Client",
    ) -> "list[Choice]":
        """The values ``setting`` (one of ``choosable``) may take, listed from the remote
        system for ``credential`` and the settings chosen so far (not yet validated:
        the event sets of the advertiser in ``settings``, say). Read-only."""
        raise NotImplementedError

    def test_connection(self, session: "httpx.Client") -> ConnectionStatus:
        raise NotImplementedError

    def on_save(self, session: "httpx.Client", previous: Mapping[str, Any] | None) -> list[str]:
        """Called when the destination is saved, after its connection test passed.

        Apply settings that live on the remote side and return one line per change
        made, for the operator. ``previous`` holds the former settings on an update.
        """
        return []

    def required_columns(self) -> Sequence[Sequence[str]]:
        """The input columns without which ``prepare`` would reject every row, as groups
        of alternatives computed from the settings: each group is met by any one of its
        columns, e.g. ``[("event_id",), ("email", "phone")]``. The host checks them
        before anything is sent: against the header when the reader knows the columns,
        otherwise against the keys of the leading records."""
        return ()

    def start_run(self, columns: Sequence[str] | None) -> None:
        """Called once before the first ``prepare`` of a run, with the input's columns
        when the reader knows them. Compile lookups and patterns here."""

    def start_test_events(self, test_event_code: str | None) -> None:
        """Called before a validation run, ahead of ``start_run``: from now on, mark
        every batch this instance sends as test events, which the remote system shows
        to the operator and keeps out of reporting. ``test_event_code`` is the
        operator's, when given. Raise ``AmpDestError`` with what to do when test events
        cannot be sent (no code to mark them with). The default refuses: a destination
        without test events cannot be validated, only dry-run."""
        raise AmpDestError(
            f"{self.title} has no test events, so it cannot be validated with a sample: "
            "a dry run prepares every row without sending"
        )

    def prepare(self, row: Any, warnings: list[RecordWarning]) -> Any:
        """One input row as one item for ``encode_item``, or a ``RecordError``. ``row``
        is a ``Mapping[str, Any]``, or the ``tuple[Any, ...]`` of ``fields``."""
        raise NotImplementedError

    # Items with different keys never share a batch. The host skips the call
    # entirely when a subclass does not override this.
    def batch_key(self, item: Any) -> Hashable:
        return None

    def encode_item(self, item: Any) -> bytes:
        return orjson.dumps(item)

    def idempotency_key(self, item: Any) -> Sequence[Any] | None:
        """What makes an item the same item to the remote system, as a few strings or
        numbers (TikTok: event set, event, event_id), or None for an item that has no
        key (it is always sent). Called for every item, on the hot path; the host keeps
        only a digest of it. Ignored unless ``idempotency_window`` is set."""
        return None

    def batch_frame(self, key: Hashable) -> tuple[bytes, bytes, bytes]:
        """``(head, separator, tail)``: a request body is ``head``, the encoded items
        with ``separator`` between them, then ``tail``. The default is a JSON array.
        Called once per batch; the host counts the frame in ``max_batch_bytes``."""
        return b"[", b",", b"]"

    def deliver(self, batch: Batch, session: "httpx.Client") -> BatchOutcome:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


@public
class Reader:
    """An input format. Iterating yields one mapping per record, in input order, or a
    ``RecordError`` for a record that cannot be decoded (the run goes on).

    Raise ``amp_destinations.InputError`` from ``__init__`` or the first iteration when
    the file cannot be read at all: the run stops before anything is sent.

    A reader whose ``columns`` are known may also implement ``values()``: the same
    records as lists of values in ``columns`` order, a new list each (the host may
    append to it). The host then reads through it, and builds no mapping per row for
    a destination that declares ``fields``.

    A format whose fields are separated by a character the operator may choose sets
    ``delimited``; its ``__init__`` then takes ``delimiter=`` (``--delimiter``).
    """

    name: ClassVar[str]
    suffixes: ClassVar[tuple[str, ...]] = ()
    delimited: ClassVar[bool] = False

    def __init__(self, path: str):
        self.path = path

    @property
    def columns(self) -> list[str] | None:
        return None

    def __iter__(self) -> Iterator[Mapping[str, Any] | RecordError]:
        raise NotImplementedError

    def values(self) -> Iterator[list[Any] | RecordError]:
        raise NotImplementedError

    def progress(self) -> tuple[int, int] | None:
        """How far reading has come, as ``(done, total)`` in a unit of the reader's
        choosing, for the progress bar's percent and time left; None when the total is
        not known (a pipe). The built-in readers count the bytes of the file as it lies
        on disk, compressed or not (Parquet, its rows). Called every few thousand
        records from the thread that iterates, and once after the reader is closed."""
        return None

    def likely_cause(self) -> str | None:
        """Asked when the input cannot be what the operator meant (every leading record
        failed to decode, or columns the destination needs are missing): a guess at why
        from what was read, with what to do, e.g. "it looks like CSV: use format='csv'";
        None when there is no guess. Never quote a value. Name a send option by its
        keyword, ``format='csv'`` or ``delimiter=';'``, as ``Host.send`` takes it: the
        CLI shows it as ``--format csv``."""
        return None

    def close(self) -> None:
        pass
