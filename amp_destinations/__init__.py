"""amp-destinations: a host framework for customer-data destinations.

The public API is what ``__all__`` lists; everything in a module whose name starts
with an underscore is private and may change.
"""

from ._base import Credential, CredentialType, Destination, Reader
from ._delivery import RetryPolicy
from ._engine import RunResult
from ._errors import (
    AlreadyExistsError,
    AmpDestError,
    ConnectionTestFailed,
    DuplicateNameError,
    InputError,
    NotFoundError,
    PluginError,
    SecretStoreError,
    StorageError,
    ValidationError,
)
from ._fields import Secret, SecureUrl, is_loopback_host
from ._hookspecs import hookimpl, hookspec
from ._host import Host, SaveResult
from ._http import retry_after_seconds
from ._plugins import PluginInfo, Registry, load_plugins
from ._results import (
    Batch,
    BatchOutcome,
    Check,
    ConnectionStatus,
    FailureType,
    ItemRejection,
    RecordError,
    RecordWarning,
)
from ._secrets import SecretStore
from ._version import __version__

__all__ = [
    "AlreadyExistsError",
    "AmpDestError",
    "Batch",
    "BatchOutcome",
    "Check",
    "ConnectionStatus",
    "ConnectionTestFailed",
    "Credential",
    "CredentialType",
    "Destination",
    "DuplicateNameError",
    "FailureType",
    "Host",
    "InputError",
    "ItemRejection",
    "NotFoundError",
    "PluginError",
    "PluginInfo",
    "Reader",
    "RecordError",
    "RecordWarning",
    "Registry",
    "RetryPolicy",
    "RunResult",
    "SaveResult",
    "Secret",
    "SecretStore",
    "SecretStoreError",
    "SecureUrl",
    "StorageError",
    "ValidationError",
    "__version__",
    "hookimpl",
    "hookspec",
    "is_loopback_host",
    "load_plugins",
    "retry_after_seconds",
]
