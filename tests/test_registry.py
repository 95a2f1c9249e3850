"""Registering a class by name and path: listed without importing it, imported and
checked on first lookup, every mistake reported against the plugin that made it."""

from __future__ import annotations

import sys
import textwrap

import pytest
from click.testing import CliRunner

import amp_destinations as amp
from amp_destinations.cli import build_cli

DESTINATION = """
import amp_destinations as amp


class Deferred(amp.Destination):
    name = "deferred"
    title = "Deferred"

    def test_connection(self, session):
        return amp.ConnectionStatus([amp.Check.passed("fine")])

    def prepare(self, row, warnings):
        return dict(row)

    def deliver(self, batch, session):
        return amp.BatchOutcome.delivered()


class NotADestination:
    name = "deferred"


class Lines(amp.Reader):
    name = "lines"
    suffixes = (".lines",)

    def __iter__(self):
        yield {"line": "one"}
"""


@pytest.fixture
def package(tmp_path, monkeypatch):
    """An importable package ``deferred_plugin`` with its classes in ``.classes``, and a
    plugin object whose hooks register what a test asks for, by path."""
    folder = tmp_path / "deferred_plugin"
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    (folder / "classes.py").write_text(textwrap.dedent(DESTINATION))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield folder
    for name in [name for name in sys.modules if name.startswith("deferred_plugin")]:
        del sys.modules[name]


def plugin(destinations=(), readers=()):
    class Plugin:
        __name__ = "deferred-plugin"

        @amp.hookimpl
        def register_destinations(self, register):
            for name, path in destinations:
                register(name, path)

        @amp.hookimpl
        def register_readers(self, register):
            for name, path in readers:
                register(name, path)

    return Plugin()


def load(*plugins, strict=False):
    return amp.load_plugins(entry_points=False, builtins=False, extra=plugins, strict=strict)


def test_a_class_registered_by_path_is_listed_unimported_and_imported_on_lookup(package):
    registry = load(plugin([("deferred", "deferred_plugin.classes:Deferred")]))
    info = {info.name: info for info in registry.plugins}["deferred-plugin"]
    assert info.registered == {"destinations": ["deferred"]}
    assert list(registry.destinations) == ["deferred"]
    assert "deferred" in registry.destinations
    assert "deferred_plugin.classes" not in sys.modules

    cls = registry.destination("deferred")
    assert cls.title == "Deferred" and issubclass(cls, amp.Destination)
    assert "deferred_plugin.classes" in sys.modules
    assert registry.destinations["deferred"] is cls  # imported once, then kept
    assert dict(registry.destinations.items()) == {"deferred": cls}


def test_a_reader_registered_by_path_is_found_by_its_suffix(package):
    registry = load(plugin(readers=[("lines", "deferred_plugin.classes:Lines")]))
    assert registry.reader_for("notes.lines").name == "lines"


def test_a_path_that_does_not_import_names_the_plugin_the_class_and_the_fix(package):
    registry = load(plugin([("deferred", "deferred_plugin.missing:Deferred")]))
    with pytest.raises(amp.PluginError) as caught:
        registry.destination("deferred")
    message = str(caught.value)
    assert "plugin deferred-plugin registered destination 'deferred'" in message
    assert "deferred_plugin.missing:Deferred" in message
    assert "ModuleNotFoundError" in message
    assert "reinstall the plugin or report it to its author" in message


def test_a_class_under_another_name_than_it_was_registered_with_is_refused(package):
    registry = load(plugin([("something-else", "deferred_plugin.classes:Deferred")]))
    with pytest.raises(amp.PluginError, match="whose name is 'deferred'; the two must match"):
        registry.destination("something-else")


def test_a_path_to_what_is_not_a_destination_is_refused_as_an_eager_one_is(package):
    registry = load(plugin([("deferred", "deferred_plugin.classes:NotADestination")]))
    with pytest.raises(amp.PluginError, match="which is not a Destination"):
        registry.destination("deferred")


@pytest.mark.parametrize("path", ["deferred_plugin.classes.Deferred", "", None])
def test_a_malformed_path_is_a_load_error_of_the_plugin(package, path, capsys):
    registry = load(plugin([("deferred", path)]))
    (info,) = registry.errors
    assert info.name == "deferred-plugin"
    assert "the path must read 'package.module:ClassName'" in info.error
    assert "deferred" not in registry.destinations
    assert "failed to load and is skipped" in capsys.readouterr().err


def test_a_deferred_name_taken_by_another_plugin_is_a_duplicate(package):
    class Eager:
        __name__ = "eager"

        @amp.hookimpl
        def register_destinations(self, register):
            register(amp.load_plugins(entry_points=False).destination("file"))

    registry = load(Eager(), plugin([("file", "deferred_plugin.classes:Deferred")]))
    (info,) = registry.errors
    assert info.name == "deferred-plugin"
    assert "is registered by both plugin eager and plugin deferred-plugin" in info.error


def test_verify_imports_everything_and_records_each_failure_on_its_plugin(package):
    good = plugin([("deferred", "deferred_plugin.classes:Deferred")])
    broken = plugin([("broken", "deferred_plugin.missing:Broken")])
    broken.__name__ = "broken-plugin"
    registry = load(good, broken)
    assert registry.errors == []
    registry.verify()
    assert [info.name for info in registry.errors] == ["broken-plugin"]
    assert "deferred_plugin.missing:Broken" in registry.errors[0].error
    assert "deferred_plugin.classes" in sys.modules  # the good one was imported too


def test_plugins_list_verify_reports_a_broken_path_and_exits_1(package, home):
    registry = load(plugin([("deferred", "deferred_plugin.missing:Deferred")]))
    runner = CliRunner()
    listed = runner.invoke(build_cli(registry), ["plugins", "list"])
    assert listed.exit_code == 0 and "FAILED" not in listed.output

    verified = runner.invoke(build_cli(registry), ["plugins", "list", "--verify"])
    assert verified.exit_code == 1
    assert "FAILED TO LOAD: plugin deferred-plugin registered destination 'deferred'" in (
        verified.output
    )


def test_plugins_list_verify_exits_0_when_every_class_imports(package, home):
    registry = load(plugin([("deferred", "deferred_plugin.classes:Deferred")]))
    result = CliRunner().invoke(build_cli(registry), ["plugins", "list", "--verify", "--json"])
    assert result.exit_code == 0, result.output
    assert "deferred_plugin.classes" in sys.modules


def test_a_broken_path_met_by_a_command_is_one_line_naming_the_plugin(package, home):
    registry = load(plugin([("deferred", "deferred_plugin.missing:Deferred")]))
    result = CliRunner().invoke(
        build_cli(registry), ["destinations", "add", "d", "--type", "deferred", "--no-test"]
    )
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("amp-dest: error: plugin deferred-plugin")
