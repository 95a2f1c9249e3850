"""amp-destinations: a host framework for customer-data destinations.

The public API is what ``__all__`` lists; everything in a module whose name starts
with an underscore is private and may change.
"""

from ._base import Credential, CredentialType, Destination, Reader
from ._delivery import RetryPolicy
from ._errors import (
    AlreadyExistsError,
    AmpDestError,
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
from ._plugins import PluginInfo, Registry, load_plugins
from ._records import (
    AttemptInfo,
    CredentialInfo,
    DestinationInfo,
    RunInfo,
    RunResult,
    RunStatus,
)
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
from ._version import __version__

__all__ = [
    "AlreadyExistsError",
    "AmpDestError",
    "AttemptInfo",
    "Batch",
    "BatchOutcome",
    "Check",
    "ConnectionStatus",
    "ConnectionTestFailed",
    "Credential",
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
    "Registry",
    "RetryPolicy",
    "RunInfo",
    "RunResult",
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

# Public classes say they live here, where they are imported from, so that reprs,
# tracebacks and help() show amp_destinations.Host rather than a private module.
# Pickling finds them here too. Subclasses a plugin defines keep their own module.
for _name in __all__:
    _public = globals()[_name]
    if isinstance(_public, type):
        _public.__module__ = __name__
del _name, _public

# Former names, kept importable with a warning.
_DEPRECATED = {"ValidationError": ("InvalidFieldsError", InvalidFieldsError)}


def __getattr__(name: str) -> object:
    if name in _DEPRECATED:
        import warnings

        new_name, value = _DEPRECATED[name]
        warnings.warn(
            f"amp_destinations.{name} is deprecated: use amp_destinations.{new_name} "
            "(the old name clashed with marshmallow.ValidationError)",
            DeprecationWarning,
            stacklevel=2,
        )
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
