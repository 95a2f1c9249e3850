"""The values a plugin hands back to the host: connection checks, row verdicts, batch outcomes.

They are plain, immutable-by-convention objects so that the hot path stays cheap:
``RecordError`` and ``RecordWarning`` use ``__slots__`` and are built per bad row only.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import TYPE_CHECKING, Any

from ._public import public

if TYPE_CHECKING:
    from ._base import Destination

__all__ = [
    "FailureType",
    "OutcomeKind",
    "Check",
    "ConnectionStatus",
    "RecordError",
    "RecordWarning",
    "Batch",
    "BatchOutcome",
    "ItemRejection",
]


@public
class FailureType(str, Enum):
    """Why something failed, so an operator knows whom to call."""

    AUTH = "auth"  # the credential is wrong, expired or lacks a permission
    CONFIG = "config"  # a setting points at something that does not exist
    TRANSIENT = "transient"  # try again later: rate limit, outage, timeout
    SYSTEM = "system"  # a bug or an answer nobody expected


@public
@dataclass(frozen=True)
class Check:
    """One named step of a connection test, such as "token accepted"."""

    name: str
    ok: bool
    message: str = ""
    hint: str = ""  # what to do when it failed; empty when ok
    failure: FailureType | None = None

    @classmethod
    def passed(cls, name: str, message: str = "") -> Check:
        return cls(name, True, message)

    @classmethod
    def failed(cls, name: str, message: str, hint: str, failure: FailureType) -> Check:
        return cls(name, False, message, hint, FailureType(failure))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": self.ok,
            "message": self.message,
            "hint": self.hint,
            "failure": self.failure.value if self.failure else None,
        }


@public
@dataclass(frozen=True)
class ConnectionStatus:
    """The result of ``Destination.test_connection``: ok only when every check passed.

    A check that could not run because an earlier one failed is simply left out, so
    the first failed check is the one to fix.
    """

    checks: tuple[Check, ...]

    def __init__(self, checks: Sequence[Check]):
        object.__setattr__(self, "checks", tuple(checks))

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(check.ok for check in self.checks)

    @property
    def failure(self) -> FailureType | None:
        for check in self.checks:
            if not check.ok:
                return check.failure or FailureType.SYSTEM
        return None

    @property
    def first_failure(self) -> Check | None:
        return next((check for check in self.checks if not check.ok), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "failure": self.failure.value if self.failure else None,
            "checks": [check.to_dict() for check in self.checks],
        }


@public
class RecordError:
    """``prepare`` returns this for a row that cannot be sent.

    ``code`` is a stable, documented string such as ``email.missing``; ``field`` names
    the input column; ``message`` explains the rule and never quotes the raw value.
    """

    __slots__ = ("code", "field", "message")

    def __init__(self, code: str, field: str | None, message: str):
        self.code = code
        self.field = field
        self.message = message

    def __repr__(self) -> str:
        return f"RecordError({self.code!r}, {self.field!r}, {self.message!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RecordError) and (
            (self.code, self.field, self.message) == (other.code, other.field, other.message)
        )

    __hash__ = None  # type: ignore[assignment]


@public
class RecordWarning(RecordError):
    """A problem ``prepare`` fixed by dropping an optional field; the row is still sent."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"RecordWarning({self.code!r}, {self.field!r}, {self.message!r})"


@public
class Batch:
    """Items on their way to ``deliver``, each encoded once and kept only in the body.

    ``body`` is the exact request body: the destination's frame around the encoded
    items, ``head + separator.join(parts) + tail`` (see ``Destination.batch_frame``).
    ``rows[i]`` is the i-th item's 1-based input row, ``ids[i]`` its record id (or
    None), and ``parts[i]`` its encoded form, cut out of the body on demand.

    Tests build one with ``Batch.from_parts``. The host's batcher writes the body as
    items arrive instead: a batch waiting for its answer then holds one buffer, not an
    object per item.
    """

    __slots__ = ("key", "rows", "ids", "body", "_spans")

    def __init__(
        self,
        key: Hashable,
        rows: Sequence[int],
        ids: Sequence[Any],
        body: bytes,
        spans: Sequence[int],
    ):
        self.key = key
        self.rows = rows
        self.ids = ids
        self.body = body
        self._spans = spans  # where each item starts and ends in body, flattened

    @classmethod
    def from_parts(
        cls,
        destination: Destination,
        key: Hashable,
        parts: Sequence[bytes],
        rows: Sequence[int] | None = None,
        ids: Sequence[Any] | None = None,
    ) -> Batch:
        """The batch of these encoded items in ``destination``'s frame for ``key``;
        rows are numbered from 1 and ids are None unless given."""
        head, separator, tail = destination.batch_frame(key)
        spans: list[int] = []
        offset = len(head)
        for part in parts:
            spans.append(offset)
            offset += len(part)
            spans.append(offset)
            offset += len(separator)
        body = b"".join((head, separator.join(parts), tail))
        return cls(
            key,
            list(range(1, len(parts) + 1)) if rows is None else rows,
            [None] * len(parts) if ids is None else ids,
            body,
            spans,
        )

    @property
    def parts(self) -> list[bytes]:
        body, spans = self.body, self._spans
        return [body[spans[i] : spans[i + 1]] for i in range(0, len(spans), 2)]

    def __len__(self) -> int:
        return len(self._spans) // 2

    def __repr__(self) -> str:
        return f"<Batch of {len(self)} items, {len(self.body):,} bytes, key {self.key!r}>"


@public
@dataclass(frozen=True)
class ItemRejection:
    """One item of a batch that the remote system refused, by its index in the batch."""

    index: int
    code: str
    message: str


@public
class OutcomeKind(StrEnum):
    """What became of one batch (``BatchOutcome.kind``). A ``str``: each member equals
    its value, so ``outcome.kind == "delivered"`` holds."""

    DELIVERED = "delivered"  # the remote system accepted the batch
    RETRY = "retry"  # nothing is known to be accepted; send again
    REJECTED = "rejected"  # refused as a whole: the host splits it to find the bad items
    REJECTED_ITEMS = "rejected_items"  # these items were refused, the others accepted
    FATAL = "fatal"  # stop the run: no later batch can succeed (auth, config)


@public
@dataclass(frozen=True)
class BatchOutcome:
    """What became of one batch. Build it with the class methods.

    ``kind`` (an ``OutcomeKind``; a plain string is converted) is one of:
      delivered       the remote system accepted the batch (``note`` keeps its remark)
      retry           nothing is known to be accepted; send again (after ``retry_after``
                      seconds when the remote system said)
      rejected        the batch was refused as a whole; the host splits it to find the
                      bad items, and rejects a single item with ``code`` and ``message``
      rejected_items  these items were refused, the others were accepted
      fatal           stop the run: no later batch can succeed (auth, config)
    """

    kind: OutcomeKind
    message: str = ""
    code: str = ""
    retry_after: float | None = None
    failure: FailureType | None = None
    rejections: tuple[ItemRejection, ...] = field(default=())
    note: str = ""
    throttled: bool = False

    def __post_init__(self) -> None:
        if type(self.kind) is not OutcomeKind:  # built with a string: "delivered"
            object.__setattr__(self, "kind", OutcomeKind(self.kind))

    @classmethod
    def delivered(cls, note: str = "") -> BatchOutcome:
        return cls(OutcomeKind.DELIVERED, note=note)

    @classmethod
    def retry(
        cls, message: str, retry_after: float | None = None, throttled: bool = False
    ) -> BatchOutcome:
        """``throttled`` marks a rate limit: the host slows the whole run, not one batch."""
        return cls(OutcomeKind.RETRY, message=message, retry_after=retry_after, throttled=throttled)

    @classmethod
    def rejected(cls, code: str, message: str) -> BatchOutcome:
        return cls(OutcomeKind.REJECTED, message=message, code=code)

    @classmethod
    def rejected_items(cls, rejections: Sequence[ItemRejection], note: str = "") -> BatchOutcome:
        return cls(OutcomeKind.REJECTED_ITEMS, rejections=tuple(rejections), note=note)

    @classmethod
    def fatal(cls, message: str, failure: FailureType | str = FailureType.CONFIG) -> BatchOutcome:
        return cls(OutcomeKind.FATAL, message=message, failure=FailureType(failure))
