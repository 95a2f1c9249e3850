"""``@public``: a class of the public API says it lives in ``amp_destinations``.

Reprs, tracebacks and ``help()`` then show ``amp_destinations.Host`` rather than a
private module, and pickling finds the class where it is imported from. It is set
where the class is defined, because the package imports its modules only on first
use. Put it above ``@dataclass``: the dataclass machinery reads the defining module.
"""

from typing import TypeVar

__all__ = ["public"]

C = TypeVar("C", bound=type)


def public(cls: C) -> C:
    cls.__module__ = "amp_destinations"
    return cls
