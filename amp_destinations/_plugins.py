"""Finding plugins and collecting what they register.

Three sources, in this order: the built-in plugins (registered explicitly, through the
same hooks), the ``amp_destinations`` entry-point group, and an optional directory of
``.py`` files for local development. A plugin that fails to import, to validate or to
register is recorded and reported, and the others keep working, unless strict mode
(``AMP_DEST_STRICT_PLUGINS=1``) makes that fatal. ``AMP_DEST_TRACE_HOOKS=1`` writes
every hook call to stderr.

A plugin runs with the operator's keyring and data, so code that someone else could
have written is never imported: a plugins directory (or its ``__pycache__``) or a
``.py`` file in it that is writable by group or others is a load error, as ssh
refuses a loose key file.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import stat
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pluggy

from . import _hookspecs
from ._errors import PluginError
from ._public import public
from ._registry import KINDS, Registry
from ._terminal import printable

__all__ = ["PluginInfo", "Registry", "load_plugins", "BUILTIN_PLUGINS"]

BUILTIN_PLUGINS = (
    "amp_destinations.builtins.readers",
    "amp_destinations.builtins.file",
    "amp_destinations.builtins.webhook",
)

STRICT_ENV = "AMP_DEST_STRICT_PLUGINS"
TRACE_ENV = "AMP_DEST_TRACE_HOOKS"
PLUGINS_DIR_ENV = "AMP_DEST_PLUGINS_DIR"


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


@public
@dataclass
class PluginInfo:
    name: str
    source: str  # "builtin", "entry point" or "directory"
    distribution: str | None = None
    version: str | None = None
    registered: dict[str, list[str]] = field(default_factory=dict)
    error: str | None = None

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "source": self.source,
            "distribution": self.distribution,
            "version": self.version,
            "registered": self.registered,
            "error": self.error,
        }


def _trace_writer(message: str) -> None:
    sys.stderr.write(message)


def _builtin_modules() -> Iterable[tuple[str, Any]]:
    for module_name in BUILTIN_PLUGINS:
        yield module_name.rsplit(".", 1)[-1], importlib.import_module(module_name)


def _writable_by_others(path: Path) -> str | None:
    """The load error for a file or folder that group or others may write, else None.
    Windows has no such mode bits: its ACLs are the operator's to set."""
    if os.name == "nt" or not stat.S_IMODE(path.stat().st_mode) & 0o022:
        return None
    return f"{path} is writable by group or others, so it is not loaded: chmod go-w {path}"


def _load_directory(directory: Path, infos: list[PluginInfo], strict: bool, pm) -> None:
    if not directory.is_dir():
        raise PluginError(f"plugins directory {directory} does not exist")
    cache = directory / "__pycache__"
    loose = _writable_by_others(directory) or (cache.is_dir() and _writable_by_others(cache))
    if loose:  # anyone could add or swap a file: nothing in it is loaded
        # The trailing slash keeps the name apart from any plugin's (a file's stem).
        info = PluginInfo(
            name=f"{directory.name}/", source="directory", distribution=str(directory)
        )
        infos.append(info)
        _record_failure(info, PluginError(loose), strict)
        return
    for path in sorted(directory.glob("*.py")):
        info = PluginInfo(name=path.stem, source="directory", distribution=str(path))
        infos.append(info)
        loose = _writable_by_others(path)
        if loose:
            _record_failure(info, PluginError(loose), strict)
            continue
        try:
            module_name = f"amp_destinations_local_plugins.{path.stem}"
            spec = importlib.util.spec_from_file_location(module_name, path)
            if spec is None or spec.loader is None:
                raise ImportError(f"no loader for {path.name}")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            pm.register(module, name=info.name)
        except Exception as exc:  # a broken plugin must not take the host down
            _record_failure(info, exc, strict)


def _record_failure(info: PluginInfo, exc: BaseException, strict: bool) -> None:
    if isinstance(exc, PluginError):
        info.error = str(exc)
    else:
        info.error = f"{type(exc).__name__}: {exc}".strip()
    if strict:
        if isinstance(exc, PluginError):
            raise exc
        raise PluginError(f"plugin {info.name} failed to load: {info.error}") from exc
    sys.stderr.write(
        printable(f"amp-dest: plugin {info.name} failed to load and is skipped: {info.error}")
        + "\n"
    )


def load_plugins(
    *,
    entry_points: bool = True,
    builtins: bool = True,
    plugins_dir: str | os.PathLike | None = None,
    extra: Iterable[Any] = (),
    strict: bool | None = None,
    trace: bool | None = None,
) -> Registry:
    """Build a fresh plugin manager, load plugins and collect their registrations.

    Nothing happens at import time: every call builds its own manager, so tests and
    embedding programs get isolated registries. ``extra`` takes plugin objects
    (modules or instances) to register as well, which is handy in tests.
    """
    strict = _env_flag(STRICT_ENV) if strict is None else strict
    trace = _env_flag(TRACE_ENV) if trace is None else trace
    if plugins_dir is None and os.environ.get(PLUGINS_DIR_ENV):
        plugins_dir = os.environ[PLUGINS_DIR_ENV]

    pm = _plugin_manager(trace)
    infos: list[PluginInfo] = []
    if builtins:
        _register_builtins(pm, infos)
    if entry_points:
        _register_entry_points(pm, infos, strict)
    if plugins_dir:
        _load_directory(Path(plugins_dir), infos, strict, pm)
    _register_extra(pm, infos, extra)
    by_name = {info.name: info for info in infos}
    _drop_misspelled_hooks(pm, by_name, strict)
    return _collect_registrations(pm, infos, by_name, strict)


def _plugin_manager(trace: bool) -> pluggy.PluginManager:
    pm = pluggy.PluginManager(_hookspecs.PROJECT)
    pm.add_hookspecs(_hookspecs)
    if trace:
        pm.trace.root.setwriter(_trace_writer)
        pm.enable_tracing()
    return pm


def _register_builtins(pm: pluggy.PluginManager, infos: list[PluginInfo]) -> None:
    version = _version("amp-destinations")
    for name, module in _builtin_modules():
        pm.register(module, name=name)
        infos.append(
            PluginInfo(
                name=name, source="builtin", distribution="amp-destinations", version=version
            )
        )


def _register_entry_points(pm: pluggy.PluginManager, infos: list[PluginInfo], strict: bool) -> None:
    """Each entry point loads on its own: one that fails is recorded, not fatal."""
    for ep in importlib.metadata.entry_points(group=_hookspecs.PROJECT):
        dist = getattr(ep, "dist", None)
        info = PluginInfo(
            name=ep.name,
            source="entry point",
            distribution=dist.name if dist else None,
            version=dist.version if dist else None,
        )
        infos.append(info)
        try:
            pm.register(ep.load(), name=ep.name)
        except Exception as exc:
            _record_failure(info, exc, strict)


def _register_extra(
    pm: pluggy.PluginManager, infos: list[PluginInfo], extra: Iterable[Any]
) -> None:
    for index, plugin in enumerate(extra):
        name = getattr(plugin, "__name__", None) or f"{type(plugin).__name__}-{index}"
        pm.register(plugin, name=name)
        infos.append(PluginInfo(name=name, source="extra"))


def _collect_registrations(
    pm: pluggy.PluginManager, infos: list[PluginInfo], by_name: dict[str, PluginInfo], strict: bool
) -> Registry:
    """Call each registration hook plugin by plugin, so that one plugin's failure is
    its own and the others' classes still register."""
    registry = Registry(pm, infos)
    for kind, (hook_name, _base, _what) in KINDS.items():
        for plugin_name, caller in _per_plugin_callers(pm, hook_name):
            info = by_name[plugin_name]
            if info.error:
                continue
            added: list[str] = []
            try:
                caller(register=registry.register_callback(kind, plugin_name, added))
            except Exception as exc:
                _record_failure(info, exc, strict)
                continue
            if added:
                info.registered.setdefault(kind, []).extend(added)
    return registry


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _drop_misspelled_hooks(pm: pluggy.PluginManager, infos: dict[str, PluginInfo], strict: bool):
    """``check_pending`` flags a hookimpl that matches no hookspec (a typo, usually).
    Report the plugin and unregister it, so that it cannot half-work."""
    while True:
        try:
            pm.check_pending()
            return
        except pluggy.PluginValidationError as exc:
            name = pm.get_name(exc.plugin)
            info = (infos.get(name) if name is not None else None) or PluginInfo(
                name=str(name), source="unknown"
            )
            pm.unregister(exc.plugin)
            _record_failure(info, exc, strict)


def _per_plugin_callers(pm: pluggy.PluginManager, hook_name: str):
    """One caller per plugin that implements ``hook_name``, so that an exception is
    attributed to the plugin that raised it and the others still register."""
    hook = getattr(pm.hook, hook_name)
    implementers = [impl.plugin for impl in hook.get_hookimpls()]
    for plugin in implementers:  # registration order: built-ins, entry points, directory
        others = [other for other in implementers if other is not plugin]
        yield pm.get_name(plugin), pm.subset_hook_caller(hook_name, others)


def register_commands(registry: Registry, cli) -> None:
    """Let plugins add CLI commands; a failing plugin is reported like a load error."""
    by_name = {info.name: info for info in registry.plugins}
    for plugin_name, caller in _per_plugin_callers(registry.pm, "register_commands"):
        info = by_name.get(plugin_name)
        if info is None or info.error:
            continue
        before = set(cli.commands)
        try:
            caller(cli=cli)
        except Exception as exc:
            _record_failure(info, exc, _env_flag(STRICT_ENV))
            continue
        added = sorted(set(cli.commands) - before)
        if added:
            info.registered.setdefault("commands", []).extend(added)
