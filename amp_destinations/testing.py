"""Helpers for testing plugins and programs that embed the host.

from amp_destinations.testing import MemoryKeyring
host = amp_destinations.Host(tmp_path, secrets=amp_destinations.SecretStore(MemoryKeyring()))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import keyring.backend
import keyring.errors

from ._base import Destination
from ._results import Batch, RecordError, RecordWarning

__all__ = ["MemoryKeyring", "make_batch", "prepare_row"]


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


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring held in a dict, so that no test touches the machine's real keyring.
    ``entries`` maps (service, user name) to the secret, for assertions."""

    # Below the fail keyring's 0, so keyring's own discovery never picks it.
    priority = -1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # keyring's is unannotated
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.entries:
            raise keyring.errors.PasswordDeleteError(username)
        del self.entries[(service, username)]
