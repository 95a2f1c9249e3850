"""Which keyring backends may hold the host's secrets.

Three verdicts. *Unusable*: keyring's ``fail`` and ``null`` backends and an empty
chain store nothing (``null`` would drop a secret silently). *Plaintext*: backends that
keep secrets readable in a file, such as keyrings.alt's ``PlaintextKeyring`` (its
"encryption" is base64); they are refused like an unusable backend unless a test
machine opts in with ``AMP_DEST_ALLOW_INSECURE_KEYRING=1``. Everything else is
allowed: the platform keyrings, encrypted files (keyrings.alt's ``EncryptedKeyring``,
keyrings.cryptfile) and in-memory test backends.

Plaintext backends are recognised by class name along the MRO, so that keyrings.alt is
never imported to ask (it may not be installed) and subclasses are caught too. A
``ChainerBackend`` is judged by the backend its writes go to: the first of its chain.
"""

from __future__ import annotations

import keyring.backend
from keyring.backends import chainer, fail, null

__all__ = ["ALLOW_INSECURE_ENV", "backend_name", "insecure_allowed", "is_plaintext", "is_unusable"]

ALLOW_INSECURE_ENV = "AMP_DEST_ALLOW_INSECURE_KEYRING"

_PLAINTEXT_CLASSES = frozenset(
    {
        "keyrings.alt.file.PlaintextKeyring",
        "keyrings.alt.pyfs.PlaintextKeyring",  # keyrings.alt before 5.0
    }
)


def _write_target(backend: keyring.backend.KeyringBackend):
    """The backend that ``set_password`` stores into; None for an empty chain."""
    if isinstance(backend, chainer.ChainerBackend):
        chain = backend.backends
        return chain[0] if chain else None
    return backend


def is_unusable(backend: keyring.backend.KeyringBackend) -> bool:
    target = _write_target(backend)
    return target is None or isinstance(target, (fail.Keyring, null.Keyring))


def is_plaintext(backend: keyring.backend.KeyringBackend) -> bool:
    target = _write_target(backend)
    return target is not None and any(
        f"{cls.__module__}.{cls.__qualname__}" in _PLAINTEXT_CLASSES for cls in type(target).__mro__
    )


def backend_name(backend: keyring.backend.KeyringBackend) -> str:
    target = _write_target(backend) or backend
    cls = type(target)
    return f"{cls.__module__}.{cls.__qualname__}"


def insecure_allowed(environ) -> bool:
    # Exactly "1": an opt-in to storing secrets readably is never guessed from "yes".
    return environ.get(ALLOW_INSECURE_ENV) == "1"
