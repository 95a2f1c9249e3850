"""Secret fields of credentials: the system keyring, with an environment override.

Each secret is one keyring entry: service ``amp-destinations``, user name
``<credential>/<field>``. ``AMP_DEST_SECRET_<CREDENTIAL>_<FIELD>`` (upper-cased, every
other character than A-Z and 0-9 as ``_``) is read first, for CI and containers.
There is no plaintext fallback: without a usable keyring backend, or with one that
keeps secrets readable in a file (``_keyring_backends``), storing a secret fails with a
message naming the ways out. ``AMP_DEST_ALLOW_INSECURE_KEYRING=1`` lets a test machine
use a plaintext backend anyway; ``insecure_warning`` then says so.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

import keyring
import keyring.backend
import keyring.errors

from ._errors import SecretStoreError
from ._keyring_backends import (
    ALLOW_INSECURE_ENV,
    backend_name,
    insecure_allowed,
    is_plaintext,
    is_unusable,
)
from ._names import env_var_name
from ._public import public

__all__ = ["SecretStore", "env_var_name", "SERVICE"]

SERVICE = "amp-destinations"


def _ways_out(credential: str, field: str) -> str:
    return (
        "start a desktop keyring (GNOME Keyring, KWallet, macOS Keychain, Windows "
        "Credential Locker), or choose a backend with PYTHON_KEYRING_BACKEND, "
        f"or provide the secret through the environment variable {env_var_name(credential, field)}"
    )


def _refusal_message(backend, credential: str, field: str) -> str:
    if is_plaintext(backend):
        return (
            f"the keyring backend {backend_name(backend)} keeps secrets readable in a file, "
            f"so it is refused: {_ways_out(credential, field)}; on a test machine, "
            f"{ALLOW_INSECURE_ENV}=1 accepts it"
        )
    return f"no usable keyring backend to store secrets in: {_ways_out(credential, field)}"


@public
class SecretStore:
    """Reads and writes secret fields. Pass ``backend`` to use a keyring backend other
    than the system's (tests use an in-memory one)."""

    def __init__(self, backend: keyring.backend.KeyringBackend | None = None, environ=None):
        self._backend = backend
        self._environ = os.environ if environ is None else environ

    @property
    def backend(self) -> keyring.backend.KeyringBackend:
        return self._backend if self._backend is not None else keyring.get_keyring()

    @property
    def usable(self) -> bool:
        backend = self.backend
        if is_unusable(backend):
            return False
        return not is_plaintext(backend) or insecure_allowed(self._environ)

    @property
    def insecure_warning(self) -> str | None:
        """One line when secrets go to a plaintext backend because of the opt-in."""
        backend = self.backend
        if not (is_plaintext(backend) and insecure_allowed(self._environ)):
            return None
        return (
            f"secrets are stored readably in a file by {backend_name(backend)}, because "
            f"{ALLOW_INSECURE_ENV}=1: use this only on a test machine"
        )

    def source(self, credential: str, field: str) -> str | None:
        """Where a secret comes from: "environment", "keyring" or None when unset."""
        if env_var_name(credential, field) in self._environ:
            return "environment"
        if self.usable and self._read_keyring(credential, field) is not None:
            return "keyring"
        return None

    def from_environment(self, credential: str, field: str) -> str | None:
        return self._environ.get(env_var_name(credential, field))

    def get(self, credential: str, field: str) -> str | None:
        override = self.from_environment(credential, field)
        if override is not None:
            return override
        if not self.usable:
            return None
        return self._read_keyring(credential, field)

    def refusal(self, credential: str, field: str) -> str | None:
        """Why this secret cannot be kept in the keyring, with the ways out; None when
        the backend is usable."""
        return None if self.usable else _refusal_message(self.backend, credential, field)

    def set(self, credential: str, field: str, value: str) -> None:
        refusal = self.refusal(credential, field)
        if refusal:
            raise SecretStoreError(refusal)
        try:
            self.backend.set_password(SERVICE, f"{credential}/{field}", value)
        except keyring.errors.KeyringError as exc:
            raise SecretStoreError(
                f"the keyring refused to store {credential}/{field} ({type(exc).__name__}); "
                "unlock it or provide the secret through the environment variable "
                f"{env_var_name(credential, field)}"
            ) from None

    def replace(self, credential: str, values: Mapping[str, str]) -> Callable[[], None]:
        """Store several secrets of one credential, all or none: when the keyring refuses
        one, those already written get their former values back and the error is raised.
        Returns the undo, for a caller whose next step (the database) fails."""
        usable = self.usable  # when not, the first set() raises the refusal
        former = {
            field: self._read_keyring(credential, field) if usable else None for field in values
        }
        written: list[str] = []

        def undo() -> None:
            for field in reversed(written):
                previous = former[field]
                try:
                    if previous is None:
                        self.delete(credential, field)
                    else:
                        self.set(credential, field, previous)
                except SecretStoreError:  # the keyring refuses even that: nothing left to do
                    pass

        try:
            for field, value in values.items():
                self.set(credential, field, value)
                written.append(field)
        except SecretStoreError:
            undo()
            raise
        return undo

    def delete(self, credential: str, field: str) -> None:
        # A refused plaintext backend may still hold an entry written before: deleting
        # it only takes a readable secret away, so that is done.
        if is_unusable(self.backend):
            return
        try:
            self.backend.delete_password(SERVICE, f"{credential}/{field}")
        except keyring.errors.PasswordDeleteError:
            pass

    def _read_keyring(self, credential: str, field: str) -> str | None:
        try:
            return self.backend.get_password(SERVICE, f"{credential}/{field}")
        except keyring.errors.KeyringError as exc:
            raise SecretStoreError(
                f"the keyring could not be read for {credential}/{field} ({type(exc).__name__}); "
                f"unlock it or set {env_var_name(credential, field)}"
            ) from None
