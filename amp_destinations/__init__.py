"""amp-destinations: a host framework for customer-data destinations.

The public API is what ``__all__`` lists; everything in a module whose name starts
with an underscore is private and may change.
"""

import importlib
import typing

from ._version import __version__

if typing.TYPE_CHECKING:
    from ._authorize import Authorization, AuthorizationFlow, Choice
    from ._base import Credential, CredentialType, Destination, Reader
    from ._delivery import RetryPolicy
    from ._errors import (
        AlreadyExistsError,
        AmpDestError,
        AuthorizationRefused,
        ConnectionTestFailed,
        DuplicateNameError,
        InputError,
        InvalidFieldsError,
        NotFoundError,
        PluginError,
        SecretStoreError,
        StorageError,
    )
    from ._fields import Secret, SecureUrl, is_loopback_host
    from ._hookspecs import hookimpl, hookspec
    from ._host import Host, SaveResult
    from ._http import retry_after_seconds
    from ._plugins import PluginInfo, load_plugins
    from ._records import (
        AttemptInfo,
        AuthorizeResult,
        CredentialInfo,
        DestinationInfo,
        RunInfo,
        RunKind,
        RunResult,
        RunStatus,
    )
    from ._registry import Register, Registry
    from ._results import (
        Batch,
        BatchOutcome,
        Check,
        ConnectionStatus,
        FailureType,
        ItemRejection,
        OutcomeKind,
        RecordError,
        RecordWarning,
    )
    from ._secrets import SecretStore

__all__ = [
    "AlreadyExistsError",
    "AmpDestError",
    "AttemptInfo",
    "Authorization",
    "AuthorizationFlow",
    "AuthorizationRefused",
    "AuthorizeResult",
    "Batch",
    "BatchOutcome",
    "Check",
    "ConnectionStatus",
    "ConnectionTestFailed",
    "Credential",
    "Choice",
    "CredentialInfo",
    "CredentialType",
    "Destination",
    "DestinationInfo",
    "DuplicateNameError",
    "FailureType",
    "Host",
    "InputError",
    "InvalidFieldsError",
    "ItemRejection",
    "NotFoundError",
    "OutcomeKind",
    "PluginError",
    "PluginInfo",
    "Reader",
    "RecordError",
    "RecordWarning",
    "Register",
    "Registry",
    "RetryPolicy",
    "RunInfo",
    "RunResult",
    "RunKind",
    "RunStatus",
    "SaveResult",
    "Secret",
    "SecretStore",
    "SecretStoreError",
    "SecureUrl",
    "StorageError",
    "__version__",
    "hookimpl",
    "hookspec",
    "is_loopback_host",
    "load_plugins",
    "retry_after_seconds",
]

# Where each public name lives. Importing the package imports none of them, so that
# `amp-dest --help` and a plugin's `from amp_destinations import hookimpl` stay fast;
# each is imported on first use (PEP 562). The block above says the same to type
# checkers, and a test keeps the two and __all__ in step.
_LAZY = {
    "Authorization": "_authorize",
    "AuthorizationFlow": "_authorize",
    "Choice": "_authorize",
    "Credential": "_base",
    "CredentialType": "_base",
    "Destination": "_base",
    "Reader": "_base",
    "RetryPolicy": "_delivery",
    "AlreadyExistsError": "_errors",
    "AmpDestError": "_errors",
    "AuthorizationRefused": "_errors",
    "ConnectionTestFailed": "_errors",
    "DuplicateNameError": "_errors",
    "InputError": "_errors",
    "InvalidFieldsError": "_errors",
    "NotFoundError": "_errors",
    "PluginError": "_errors",
    "SecretStoreError": "_errors",
    "StorageError": "_errors",
    "Secret": "_fields",
    "SecureUrl": "_fields",
    "is_loopback_host": "_fields",
    "hookimpl": "_hookspecs",
    "hookspec": "_hookspecs",
    "Host": "_host",
    "SaveResult": "_host",
    "retry_after_seconds": "_http",
    "PluginInfo": "_plugins",
    "load_plugins": "_plugins",
    "AttemptInfo": "_records",
    "AuthorizeResult": "_records",
    "CredentialInfo": "_records",
    "DestinationInfo": "_records",
    "RunInfo": "_records",
    "RunResult": "_records",
    "RunKind": "_records",
    "RunStatus": "_records",
    "Register": "_registry",
    "Registry": "_registry",
    "Batch": "_results",
    "BatchOutcome": "_results",
    "Check": "_results",
    "ConnectionStatus": "_results",
    "FailureType": "_results",
    "ItemRejection": "_results",
    "OutcomeKind": "_results",
    "RecordError": "_results",
    "RecordWarning": "_results",
    "SecretStore": "_secrets",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    if name in _DEPRECATED:
        import warnings

        new_name, message = _DEPRECATED[name]
        warnings.warn(
            f"amp_destinations.{name} is deprecated: use amp_destinations.{new_name} ({message})",
            DeprecationWarning,
            stacklevel=2,
        )
        return __getattr__(new_name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


# Former names, kept importable with a warning: old name -> (new name, why it changed).
_DEPRECATED = {
    "ValidationError": (
        "InvalidFieldsError",
        "the old name clashed with marshmallow.ValidationError",
    )
}
