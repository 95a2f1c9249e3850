"""Every error the host raises on purpose.

    AmpDestError                      base: message is one line an operator can act on
    ├── PluginError                   a plugin failed to load, or broke a contract
    │   └── DuplicateNameError        two plugins registered the same name
    ├── NotFoundError                 no such plugin type, credential, destination, run
    │                                 or secret
    ├── AlreadyExistsError            a credential or destination of that name exists
    ├── InvalidFieldsError            settings, credential fields or a name broke a rule
    ├── SecretStoreError              no usable keyring backend, or it refused a write
    ├── InputError                    an input file cannot be read at all
    ├── StorageError                  the local disk or database failed: full, read-only,
    │                                 damaged, or a path that is not a writable file
    ├── ConnectionTestFailed          a save was refused because test_connection failed
    └── AuthorizationRefused          an OAuth authorization was denied, expired, reused,
                                      or its code exchange refused

A run that the remote system stops (revoked token, wrong account) is not an exception:
``Host.send`` returns its RunResult with status "failed" and the reason in ``error``,
because the run's record, counts and rejects are as much the answer as the failure.

Messages never contain secret values or raw row values: they name fields and rules.
They say what is wrong in the Python API's terms, never which command to run: an error
carries the facts (``kind``, ``name``...) from which a front end adds its own hint, as
the CLI adds `amp-dest ...` commands.

``ValidationError``, the former name of InvalidFieldsError, is still importable from
``amp_destinations`` with a DeprecationWarning; it clashed with marshmallow's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._public import public

if TYPE_CHECKING:
    from ._results import ConnectionStatus

__all__ = [
    "AmpDestError",
    "PluginError",
    "DuplicateNameError",
    "NotFoundError",
    "AlreadyExistsError",
    "InvalidFieldsError",
    "SecretStoreError",
    "InputError",
    "StorageError",
    "ConnectionTestFailed",
]


@public
class AmpDestError(Exception):
    """Base of the host's errors. ``str(error)`` is one line that says what is wrong."""


@public
class PluginError(AmpDestError):
    pass


@public
class DuplicateNameError(PluginError):
    pass


@public
class NotFoundError(AmpDestError):
    """``kind`` says what was looked for: "credential", "destination", "run",
    "credential type", "destination type", "input format", "suffix" (no input format
    reads a file of that name) or "secret" (None when raised without it); ``name`` is
    the name looked for (a run's id as text, the file's name for a suffix, the
    credential's name for a secret) and ``field`` the secret field, for a secret."""

    def __init__(
        self,
        message: str,
        kind: str | None = None,
        name: str | None = None,
        field: str | None = None,
    ):
        self.kind = kind
        self.name = name
        self.field = field
        super().__init__(message)


@public
class AlreadyExistsError(AmpDestError):
    """``kind`` is "credential" or "destination" and ``name`` the name taken, when a
    name is taken; both are None when something still in use cannot be removed."""

    def __init__(self, message: str, kind: str | None = None, name: str | None = None):
        self.kind = kind
        self.name = name
        super().__init__(message)


@public
class InvalidFieldsError(AmpDestError):
    """Field errors from a marshmallow schema (or a name's rule), flattened to
    ``{field: [rule, ...]}``; ``what`` names what was checked ("settings for NAME",
    "credential NAME"...). ``needs_credential`` is the credential type a destination
    needs, when that credential was not given."""

    def __init__(
        self, what: str, errors: dict[str, list[str]], *, needs_credential: str | None = None
    ):
        self.what = what
        self.errors = errors
        self.needs_credential = needs_credential
        detail = "; ".join(
            f"{field}: {' '.join(rules).rstrip('.')}" for field, rules in sorted(errors.items())
        )
        super().__init__(f"invalid {what}: {detail}")


@public
class SecretStoreError(AmpDestError):
    pass


@public
class InputError(AmpDestError):
    pass


@public
class StorageError(AmpDestError):
    """The message names the path, the cause (no space left, read-only, not a
    database) and what to do. ``kind`` says which: "full", "read-only", "damaged",
    "locked", "path", "version" or "other"."""

    def __init__(self, message: str, kind: str = "other"):
        self.kind = kind
        super().__init__(message)


@public
class ConnectionTestFailed(AmpDestError):
    """A save refused because the connection test failed; nothing was saved.
    ``status`` is the ``ConnectionStatus`` with the failed check; ``credential`` the
    name of the credential tested (None when the destination needs none). A refused
    token is a check failed with ``FailureType.AUTH`` (``status.failure``);
    ``renewable`` says whether ``Host.reauthorize_credential`` can renew that
    credential (its type declares an authorization flow)."""

    def __init__(
        self,
        message: str,
        status: ConnectionStatus,
        *,
        credential: str | None = None,
        renewable: bool = False,
    ):
        self.status = status
        self.credential = credential
        self.renewable = renewable
        super().__init__(message)


@public
class AuthorizationRefused(AmpDestError):
    """The provider, or the person at the browser, refused an authorization: access
    denied, a code that expired or was used already, a wrong app secret, a state that
    does not match, or no answer in time. The message says which, in one line, without
    a secret."""
