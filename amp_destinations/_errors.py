"""Every error the host raises on purpose.

    AmpDestError                      base: message is one line an operator can act on
    ├── PluginError                   a plugin failed to load, or broke a contract
    │   └── DuplicateNameError        two plugins registered the same name
    ├── NotFoundError                 no such plugin type, credential, destination or run
    ├── AlreadyExistsError            a credential or destination of that name exists
    ├── ValidationError               settings or credential fields failed their schema
    ├── SecretStoreError              no usable keyring backend, or it refused a write
    ├── InputError                    an input file cannot be read at all
    ├── StorageError                  the local disk or database failed: full, read-only,
    │                                 damaged, or a path that is not a writable file
    └── ConnectionTestFailed          a save was refused because test_connection failed

A run that the remote system stops (revoked token, wrong account) is not an exception:
``Host.send`` returns its RunResult with status "failed" and the reason in ``error``,
because the run's record, counts and rejects are as much the answer as the failure.

Messages never contain secret values or raw row values: they name fields and rules.
"""

from __future__ import annotations

__all__ = [
    "AmpDestError",
    "PluginError",
    "DuplicateNameError",
    "NotFoundError",
    "AlreadyExistsError",
    "ValidationError",
    "SecretStoreError",
    "InputError",
    "StorageError",
    "ConnectionTestFailed",
]


class AmpDestError(Exception):
    """Base of the host's errors. ``str(error)`` is one line that says what to do."""


class PluginError(AmpDestError):
    pass


class DuplicateNameError(PluginError):
    pass


class NotFoundError(AmpDestError):
    pass


class AlreadyExistsError(AmpDestError):
    pass


class ValidationError(AmpDestError):
    """Field errors from a marshmallow schema, flattened to ``{field: [rule, ...]}``."""

    def __init__(self, what: str, errors: dict[str, list[str]]):
        self.what = what
        self.errors = errors
        detail = "; ".join(
            f"{field}: {' '.join(rules).rstrip('.')}" for field, rules in sorted(errors.items())
        )
        super().__init__(f"invalid {what}: {detail}")


class SecretStoreError(AmpDestError):
    pass


class InputError(AmpDestError):
    pass


class StorageError(AmpDestError):
    """The message names the path, the cause (no space left, read-only, not a
    database) and what to do. ``kind`` says which: "full", "read-only", "damaged",
    "locked", "path", "version" or "other"."""

    def __init__(self, message: str, kind: str = "other"):
        self.kind = kind
        super().__init__(message)


class ConnectionTestFailed(AmpDestError):
    def __init__(self, message: str, status):
        self.status = status
        super().__init__(message)
