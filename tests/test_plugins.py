"""Plugin discovery: built-ins, plugins directory, broken plugins, duplicates, strict
mode, misspelled hooks and tracing."""

from __future__ import annotations

import os
import textwrap

import pytest

import amp_destinations as amp

GOOD_PLUGIN = """
import amp_destinations as amp
from marshmallow import Schema


class Nothing(amp.Destination):
    name = "{name}"
    title = "Nothing"
    settings_schema = Schema

    def test_connection(self, session):
        return amp.ConnectionStatus([amp.Check.passed("fine")])

    def prepare(self, row, warnings):
        return dict(row)

    def deliver(self, batch, session):
        return amp.BatchOutcome.delivered()


@amp.hookimpl
def register_destinations(register):
    register(Nothing)
"""


def write_plugin(folder, filename, source):
    folder.mkdir(exist_ok=True)
    (folder / filename).write_text(textwrap.dedent(source))
    # Whatever the umask: loose modes are refused, as the permission tests show.
    os.chmod(folder, 0o755)
    os.chmod(folder / filename, 0o644)


def test_builtins_register_through_the_same_hooks():
    registry = amp.load_plugins(entry_points=False)
    assert {"file", "webhook"} <= set(registry.destinations)
    assert "bearer-token" in registry.credential_types
    assert {"csv", "jsonl"} <= set(registry.readers)
    by_name = {info.name: info for info in registry.plugins}
    assert by_name["webhook"].registered == {
        "credential_types": ["bearer-token"],
        "destinations": ["webhook"],
    }
    assert by_name["webhook"].source == "builtin"


def test_plugins_directory_is_loaded(tmp_path):
    write_plugin(tmp_path / "p", "nothing.py", GOOD_PLUGIN.format(name="nothing"))
    registry = amp.load_plugins(entry_points=False, plugins_dir=tmp_path / "p")
    assert "nothing" in registry.destinations
    info = next(i for i in registry.plugins if i.name == "nothing")
    assert info.source == "directory" and info.error is None


def test_plugins_directory_from_the_environment(tmp_path, monkeypatch):
    write_plugin(tmp_path / "p", "nothing.py", GOOD_PLUGIN.format(name="nothing"))
    monkeypatch.setenv("AMP_DEST_PLUGINS_DIR", str(tmp_path / "p"))
    assert "nothing" in amp.load_plugins(entry_points=False).destinations


def test_a_broken_plugin_is_reported_and_the_rest_keep_working(tmp_path, capsys):
    write_plugin(tmp_path / "p", "broken.py", "raise ImportError('no module named lost')\n")
    write_plugin(tmp_path / "p", "nothing.py", GOOD_PLUGIN.format(name="nothing"))
    registry = amp.load_plugins(entry_points=False, plugins_dir=tmp_path / "p")
    assert "nothing" in registry.destinations
    [broken] = registry.errors
    assert broken.name == "broken" and "no module named lost" in broken.error
    assert "plugin broken failed to load" in capsys.readouterr().err


def test_a_plugin_whose_hook_raises_is_reported(tmp_path):
    write_plugin(
        tmp_path / "p",
        "raiser.py",
        """
        import amp_destinations as amp

        @amp.hookimpl
        def register_destinations(register):
            raise RuntimeError("misconfigured")
    """,
    )
    registry = amp.load_plugins(entry_points=False, plugins_dir=tmp_path / "p")
    assert registry.errors[0].error == "RuntimeError: misconfigured"
    assert "file" in registry.destinations


def test_strict_mode_makes_a_broken_plugin_fatal(tmp_path, monkeypatch):
    write_plugin(tmp_path / "p", "broken.py", "raise ImportError('lost')\n")
    monkeypatch.setenv("AMP_DEST_STRICT_PLUGINS", "1")
    with pytest.raises(amp.PluginError, match="plugin broken failed to load"):
        amp.load_plugins(entry_points=False, plugins_dir=tmp_path / "p")


def test_two_plugins_registering_one_name_is_an_error_naming_both(tmp_path):
    write_plugin(tmp_path / "p", "alpha.py", GOOD_PLUGIN.format(name="twin"))
    write_plugin(tmp_path / "p", "beta.py", GOOD_PLUGIN.format(name="twin"))
    registry = amp.load_plugins(entry_points=False, plugins_dir=tmp_path / "p")
    [error] = registry.errors
    assert "plugin alpha" in error.error and "plugin beta" in error.error
    with pytest.raises(amp.DuplicateNameError, match="alpha.*beta"):
        amp.load_plugins(entry_points=False, plugins_dir=tmp_path / "p", strict=True)


def test_a_misspelled_hookimpl_is_an_error(tmp_path):
    write_plugin(
        tmp_path / "p",
        "typo.py",
        """
        import amp_destinations as amp

        @amp.hookimpl
        def register_destination(register):
            pass
    """,
    )
    registry = amp.load_plugins(entry_points=False, plugins_dir=tmp_path / "p")
    [error] = registry.errors
    assert error.name == "typo" and "register_destination" in error.error


def test_registering_something_that_is_not_a_destination_is_reported(tmp_path):
    write_plugin(
        tmp_path / "p",
        "wrong.py",
        """
        import amp_destinations as amp

        @amp.hookimpl
        def register_destinations(register):
            register(dict)
    """,
    )
    registry = amp.load_plugins(entry_points=False, plugins_dir=tmp_path / "p")
    assert "is not a Destination" in registry.errors[0].error


def test_tracing_writes_every_hook_call(monkeypatch, capsys):
    monkeypatch.setenv("AMP_DEST_TRACE_HOOKS", "1")
    amp.load_plugins(entry_points=False)
    err = capsys.readouterr().err
    for hook in ("register_credential_types", "register_destinations", "register_readers"):
        assert hook in err


def test_unknown_names_say_what_is_known():
    registry = amp.load_plugins(entry_points=False)
    with pytest.raises(amp.NotFoundError, match="no destination type named 'nope'.*file"):
        registry.destination("nope")


# Importing this plugin leaves a mark, so a test can tell it was never imported.
MARKING_PLUGIN = (
    GOOD_PLUGIN
    + """
import pathlib
pathlib.Path(__file__).with_suffix(".imported").touch()
"""
)


@pytest.mark.parametrize("loose_mode", [0o664, 0o646, 0o666])
def test_a_plugin_file_writable_by_group_or_others_is_not_imported(tmp_path, capsys, loose_mode):
    folder = tmp_path / "p"
    write_plugin(folder, "loose.py", MARKING_PLUGIN.format(name="loose"))
    write_plugin(folder, "tight.py", GOOD_PLUGIN.format(name="tight"))
    os.chmod(folder / "loose.py", loose_mode)
    registry = amp.load_plugins(entry_points=False, plugins_dir=folder)
    [error] = registry.errors
    path = folder / "loose.py"
    assert error.name == "loose"
    assert error.error == (
        f"{path} is writable by group or others, so it is not loaded: chmod go-w {path}"
    )
    assert not (folder / "loose.imported").exists()
    assert "loose" not in registry.destinations and "tight" in registry.destinations
    assert "writable by group or others" in capsys.readouterr().err


@pytest.mark.parametrize("loose", ["folder", "__pycache__"])
def test_a_plugins_directory_writable_by_group_or_others_loads_nothing(tmp_path, loose):
    folder = tmp_path / "p"
    write_plugin(folder, "good.py", MARKING_PLUGIN.format(name="good"))
    target = folder if loose == "folder" else folder / "__pycache__"
    target.mkdir(exist_ok=True)
    os.chmod(target, 0o777)
    registry = amp.load_plugins(entry_points=False, plugins_dir=folder)
    [error] = registry.errors
    assert error.name == "p/" and error.source == "directory"
    assert error.error == (
        f"{target} is writable by group or others, so it is not loaded: chmod go-w {target}"
    )
    assert not (folder / "good.imported").exists() and "good" not in registry.destinations
    assert "file" in registry.destinations  # the built-ins are unaffected


def test_strict_mode_makes_a_loose_plugin_fatal(tmp_path):
    write_plugin(tmp_path / "p", "loose.py", MARKING_PLUGIN.format(name="loose"))
    os.chmod(tmp_path / "p" / "loose.py", 0o666)
    with pytest.raises(amp.PluginError, match="writable by group or others.*chmod go-w"):
        amp.load_plugins(entry_points=False, plugins_dir=tmp_path / "p", strict=True)
    assert not (tmp_path / "p" / "loose.imported").exists()


def test_plugins_list_shows_the_permission_problem(tmp_path):
    from click.testing import CliRunner

    from amp_destinations._cli import build_cli

    write_plugin(tmp_path / "p", "loose.py", GOOD_PLUGIN.format(name="loose"))
    os.chmod(tmp_path / "p" / "loose.py", 0o664)
    registry = amp.load_plugins(entry_points=False, plugins_dir=tmp_path / "p")
    output = CliRunner().invoke(build_cli(registry), ["plugins", "list"]).output
    assert (
        f"    FAILED TO LOAD: {tmp_path / 'p' / 'loose.py'} is writable by group or others"
    ) in output
