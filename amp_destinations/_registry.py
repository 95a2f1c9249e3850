"""What the loaded plugins registered: classes by kind and name, each imported when
first used.

A hook may register a class (``register(MyDestination)``) or, so that listing plugins
and starting the CLI import none of a plugin's dependencies, a name and where the
class lives (``register("my-destination", "my_plugin.destination:MyDestination")``).
A deferred class is imported on first lookup and checked then as an eager one is
checked at registration: it must extend the kind's base class and carry the name it
was registered under.
"""

from __future__ import annotations

import pkgutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, overload

from ._errors import DuplicateNameError, NotFoundError, PluginError
from ._public import public

if TYPE_CHECKING:
    import pluggy

    from ._base import CredentialType, Destination, Reader
    from ._plugins import PluginInfo

__all__ = ["KINDS", "Register", "Registry"]

T = TypeVar("T")
T_contra = TypeVar("T_contra", contravariant=True)

# kind -> (the hook that fills it, the base class, as a person names one)
KINDS = {
    "credential_types": ("register_credential_types", "CredentialType", "credential type"),
    "destinations": ("register_destinations", "Destination", "destination type"),
    "readers": ("register_readers", "Reader", "input format"),
}


@public
class Register(Protocol[T_contra]):
    """The callback a registration hook receives: ``register(cls)``, or
    ``register(name, "package.module:ClassName")`` to import the class when first used."""

    @overload
    def __call__(self, cls: type[T_contra], /) -> None: ...
    @overload
    def __call__(self, name: str, path: str, /) -> None: ...


class _Deferred:
    """A class registered by name and import path, not imported yet."""

    __slots__ = ("path",)

    def __init__(self, path: str):
        self.path = path


def _base_class(kind: str) -> type:
    from . import _base  # the base classes pull in marshmallow: only when a class is used

    return getattr(_base, KINDS[kind][1])


def _check_class(kind: str, cls: Any, plugin: str) -> str:
    """The registered class's name, or a PluginError saying what is wrong with it."""
    base = _base_class(kind)
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise PluginError(f"plugin {plugin} registered {cls!r}, which is not a {base.__name__}")
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise PluginError(f"plugin {plugin} registered {cls.__name__} without a name")
    return name


class _Classes(Mapping[str, type[T]], Generic[T]):
    """One kind's registrations. Names, membership and length never import; looking a
    class up (``[]``, ``get``, ``values``, ``items``) imports it if it was deferred."""

    def __init__(self, kind: str, owners: dict[tuple[str, str], str]):
        self._kind = kind
        self._owners = owners
        self._entries: dict[str, type[T] | _Deferred] = {}

    def __getitem__(self, name: str) -> type[T]:
        entry = self._entries[name]
        if isinstance(entry, _Deferred):
            entry = self._import(name, entry)
        return entry

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def add(self, name: str, entry: type[T] | _Deferred, plugin: str) -> None:
        if name in self._entries:
            first = self._owners[(self._kind, name)]
            raise DuplicateNameError(
                f"{self._what} {name!r} is registered by both plugin {first} and plugin "
                f"{plugin}; uninstall or rename one"
            )
        self._entries[name] = entry
        self._owners[(self._kind, name)] = plugin

    def owner(self, name: str) -> str:
        """The plugin that registered ``name``."""
        return self._owners[(self._kind, name)]

    @property
    def _what(self) -> str:
        return self._kind.rstrip("s").replace("_", " ")

    def _import(self, name: str, deferred: _Deferred) -> type[T]:
        plugin = self.owner(name)
        try:
            cls = pkgutil.resolve_name(deferred.path)
        except Exception as exc:
            raise PluginError(
                f"plugin {plugin} registered {self._what} {name!r} at {deferred.path}, which "
                f"cannot be imported ({type(exc).__name__}: {exc}); reinstall the plugin or "
                "report it to its author"
            ) from exc
        actual = _check_class(self._kind, cls, plugin)
        if actual != name:
            raise PluginError(
                f"plugin {plugin} registered {self._what} {name!r} at {deferred.path}, whose "
                f"name is {actual!r}; the two must match"
            )
        self._entries[name] = cls
        return cls


@public
class Registry:
    """What the loaded plugins registered, by kind and name, with the plugin behind each."""

    def __init__(self, pm: pluggy.PluginManager, plugins: list[PluginInfo]):
        self.pm = pm
        self.plugins = plugins
        owners: dict[tuple[str, str], str] = {}
        self.credential_types: _Classes[CredentialType] = _Classes("credential_types", owners)
        self.destinations: _Classes[Destination] = _Classes("destinations", owners)
        self.readers: _Classes[Reader] = _Classes("readers", owners)

    @property
    def errors(self) -> list[PluginInfo]:
        return [info for info in self.plugins if info.error]

    def destination(self, name: str) -> type[Destination]:
        return self._lookup("destinations", name)

    def credential_type(self, name: str) -> type[CredentialType]:
        return self._lookup("credential_types", name)

    def reader(self, name: str) -> type[Reader]:
        return self._lookup("readers", name)

    def reader_for(self, path: str) -> type[Reader]:
        lowered = path.lower().removesuffix(".gz")
        for reader in self.readers.values():
            if any(lowered.endswith(suffix) for suffix in reader.suffixes):
                return reader
        known = ", ".join(sorted(self.readers))
        raise NotFoundError(
            f"cannot tell the format of {Path(path).name} from its name (formats: {known})",
            "suffix",
            Path(path).name,
        )

    def verify(self) -> None:
        """Import every deferred class now, recording each one that fails on its
        plugin's ``error``, as a load error is (``amp-dest plugins list --verify``)."""
        by_name = {info.name: info for info in self.plugins}
        for kind in KINDS:
            table: _Classes[Any] = getattr(self, kind)
            for name in list(table):
                try:
                    table[name]
                except PluginError as exc:
                    info = by_name.get(table.owner(name))
                    if info is not None and not info.error:
                        info.error = str(exc)

    def register_callback(self, kind: str, plugin: str, added: list[str]) -> Register[Any]:
        """The ``register`` a plugin's hook receives: records each name in ``added``."""
        table: _Classes[Any] = getattr(self, kind)

        def register(cls_or_name: Any, *where: Any) -> None:
            if not where:
                name = _check_class(kind, cls_or_name, plugin)
                table.add(name, cls_or_name, plugin)
            else:
                (path,) = where
                if not isinstance(cls_or_name, str) or not cls_or_name:
                    raise PluginError(
                        f"plugin {plugin} registered {cls_or_name!r} at {path!r}: the name "
                        "must be a non-empty string"
                    )
                if not isinstance(path, str) or ":" not in path:
                    raise PluginError(
                        f"plugin {plugin} registered {cls_or_name!r} at {path!r}: the path "
                        "must read 'package.module:ClassName'"
                    )
                name = cls_or_name
                table.add(name, _Deferred(path), plugin)
            added.append(name)

        return register

    def _lookup(self, kind: str, name: str) -> Any:
        table: _Classes[Any] = getattr(self, kind)
        try:
            return table[name]
        except KeyError:
            known = ", ".join(sorted(table)) or "none"
            what = KINDS[kind][2]
            raise NotFoundError(f"no {what} named {name!r} (known: {known})", what, name) from None
