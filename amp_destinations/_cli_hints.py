"""What the CLI adds to the Host API's errors: the ``amp-dest`` command that helps.

The Python API says what is wrong in its own terms and carries the facts (an error's
``kind``, ``name``, ``field``...); this module turns them into the hints an operator
at a shell wants, so that no command line is ever part of a Python API message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._errors import (
    AlreadyExistsError,
    AmpDestError,
    ConnectionTestFailed,
    InvalidFieldsError,
    NotFoundError,
)
from ._names import env_var_name
from ._userinfo import USERINFO_RULE

if TYPE_CHECKING:
    from ._host import Host

__all__ = ["cli_message", "renewal_hint"]

# What to list when a name is not found.
_LISTS = {"credential": "credentials", "destination": "destinations", "run": "runs"}
_REGISTERED = ("credential type", "destination type", "input format")


def cli_message(error: AmpDestError) -> str:
    """``str(error)`` with the CLI's hint, as the CLI prints it after "error:"."""
    message = str(error)
    if isinstance(error, NotFoundError):
        if error.kind == "secret" and error.name and error.field:
            return (
                f"credential {error.name!r} has no secret {error.field!r}: set it with "
                f"`amp-dest credentials update {error.name}` or the environment variable "
                f"{env_var_name(error.name, error.field)}"
            )
        if error.kind in _LISTS:
            return f"{message}; see `amp-dest {_LISTS[error.kind]} list`"
        if error.kind in _REGISTERED:
            return f"{message}; run `amp-dest plugins list` to see what loaded"
        if error.kind == "suffix":
            return f"{message}: pass --format"
        if error.kind == "authorization flow" and error.name:
            return f"{message}; add one with `amp-dest credentials add NAME --type {error.name}`"
    elif isinstance(error, AlreadyExistsError):
        if error.kind in ("credential", "destination") and error.name:
            return f"{message}; use `amp-dest {error.kind}s update {error.name}`"
    elif isinstance(error, ConnectionTestFailed):
        if error.status.failure == "auth" and error.renewable and error.credential:
            return f"{message}; {_reauthorize(error.credential)}"
        return f"{message} (use --no-test to save anyway)"
    elif isinstance(error, InvalidFieldsError):
        if error.needs_credential:
            return (
                f"{message} (create one with "
                f"`amp-dest credentials add NAME --type {error.needs_credential}`)"
            )
        if any(USERINFO_RULE in rule for rules in error.errors.values() for rule in rules):
            return f"{message}; give secrets with `amp-dest credentials add` or `update`"
    return message


def renewal_hint(host: Host, destination: str, failure: str | None) -> str | None:
    """What to do when the remote system refused the credential of ``destination``
    (``failure`` is "auth", a ``FailureType.AUTH``): renew it, when its type declares an
    authorization flow; None otherwise."""
    if failure != "auth":
        return None
    try:
        credential = host.store.destination(destination)["credential"]
        type_name = host.store.credential(credential)["type"] if credential else None
    except NotFoundError:
        return None
    credential_type = host.registry.credential_types.get(type_name or "")
    if credential is None or credential_type is None or credential_type.authorization is None:
        return None
    return _reauthorize(credential)


def _reauthorize(credential: str) -> str:
    return (
        f"the remote system refused credential {credential!r}: renew it with "
        f"`amp-dest credentials reauthorize {credential}`"
    )
