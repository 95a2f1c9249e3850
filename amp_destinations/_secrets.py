"""Secret fields of credentials: the system keyring, with an environment override.

Each secret is one keyring entry: service ``amp-destinations``, user name
``<credential>/<field>``. ``AMP_DEST_SECRET_<CREDENTIAL>_<FIELD>`` (upper-cased, every
other character than A-Z and 0-9 as ``_``) is read first, for CI and containers.
There is no plaintext fallback: without a usable keyring backend, storing a secret
fails with a message naming the ways out.
"""

from __future__ import annotations

import os
import re

import keyring
import keyring.backend
import keyring.errors
from keyring.backends import chainer, fail

from ._errors import SecretStoreError

__all__ = ["SecretStore", "env_var_name", "SERVICE"]

SERVICE = "amp-destinations"
_NOT_ALNUM = re.compile(r"[^A-Z0-9]")


def env_var_name(credential: str, field: str) -> str:
    return "AMP_DEST_SECRET_" + _NOT_ALNUM.sub("_", f"{credential}_{field}".upper())


def _no_backend_message(credential: str, field: str) -> str:
    return (
        "no usable keyring backend to store secrets in: start a desktop keyring "
        "(GNOME Keyring, KWallet, macOS Keychain, Windows Credential Locker), "
        "or choose a backend with PYTHON_KEYRING_BACKEND, "
        f"or provide the secret through the environment variable {env_var_name(credential, field)}"
    )


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
        if isinstance(backend, fail.Keyring):
            return False
        if isinstance(backend, chainer.ChainerBackend):
            return bool(backend.backends)
        return True

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

    def set(self, credential: str, field: str, value: str) -> None:
        if not self.usable:
            raise SecretStoreError(_no_backend_message(credential, field))
        try:
            self.backend.set_password(SERVICE, f"{credential}/{field}", value)
        except keyring.errors.KeyringError as exc:
            raise SecretStoreError(
                f"the keyring refused to store {credential}/{field} ({type(exc).__name__}); "
                "unlock it or provide the secret through the environment variable "
                f"{env_var_name(credential, field)}"
            ) from None

    def delete(self, credential: str, field: str) -> None:
        if not self.usable:
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
