"""A fast start: listing commands and plugins imports none of the heavy modules.

Timings are measured, not asserted (benchmarks/README.md has them); what a test can
hold fixed is their cause, which modules a command imports. Each command runs in a
fresh interpreter, through the installed entry points (the TikTok plugin included), and
reports what it loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import amp_destinations as amp

# What made `amp-dest --help` take 350 ms: each is imported by the command that needs it.
HEAVY = (
    "httpx",
    "marshmallow",
    "tqdm",
    "pyarrow",
    "orjson",
    "keyring",
    "sqlite3",
    "platformdirs",
    "phonenumbers",
    "numpy",
    "amp_destinations._host",
    "amp_destinations._engine",
    "amp_destinations._base",
    "tiktok_ads_events._destination",
    "tiktok_ads_events.emulator._server",
)

PROBE = """
import sys
from amp_destinations.cli import main

try:
    main(sys.argv[1:])
except SystemExit:
    pass
heavy = {heavy!r}
sys.stdout.flush()
sys.stderr.write("\\nLOADED " + " ".join(name for name in heavy if name in sys.modules))
"""


def loaded_by(argv, home):
    completed = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), *argv],
        capture_output=True,
        text=True,
        env={"AMP_DEST_HOME": str(home), "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    last = completed.stderr.rsplit("\n", 1)[-1]
    assert last.startswith("LOADED"), completed.stderr
    return completed.stdout, last.split()[1:]


@pytest.mark.parametrize(
    "command, needs",
    [
        ("--help", []),
        ("plugins list", []),
        ("plugins list --json", ["orjson"]),  # it prints JSON
        ("send --help", []),
        ("destinations --help", []),
        ("credentials add --help", []),
        ("credentials authorize --help", []),
        ("destinations options --help", []),
        ("tiktok emulator --help", []),
    ],
)
def test_listing_commands_and_plugins_imports_nothing_heavy(command, needs, tmp_path):
    output, loaded = loaded_by(command.split(), tmp_path)
    assert output  # the command did print its listing
    assert loaded == needs


def test_plugins_list_still_names_what_every_plugin_registered(tmp_path):
    output, _ = loaded_by(["plugins", "list", "--json"], tmp_path)
    registered = {info["name"]: info["registered"] for info in json.loads(output)}
    assert registered["tiktok-ads-events"] == {
        "commands": ["tiktok"],
        "credential_types": ["tiktok-offline-events"],
        "destinations": ["tiktok-offline-events"],
    }
    assert registered["readers"] == {"readers": ["csv", "tsv", "jsonl", "parquet"]}


def test_plugins_list_verify_imports_every_class_and_finds_them_sound(tmp_path):
    output, loaded = loaded_by(["plugins", "list", "--verify"], tmp_path)
    assert "FAILED" not in output
    assert {"marshmallow", "tiktok_ads_events._destination"} <= set(loaded)


def test_importing_the_package_for_a_hookimpl_imports_nothing_heavy():
    code = (
        "import sys\nfrom amp_destinations import hookimpl, __version__\n"
        f"print(' '.join(name for name in {HEAVY!r} if name in sys.modules))"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == ""


def test_public_classes_say_where_they_live_before_the_package_hands_them_out():
    """A class raised from a private module before anyone asked the package for it
    still shows as amp_destinations.NotFoundError in a traceback."""
    code = (
        "import importlib, amp_destinations as amp\n"
        "for name, module in amp._LAZY.items():\n"
        "    value = vars(importlib.import_module('amp_destinations.' + module))[name]\n"
        "    if isinstance(value, type):\n"
        "        print(name, value.__module__)\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr
    modules = dict(line.split() for line in completed.stdout.splitlines())
    assert len(modules) == sum(isinstance(getattr(amp, name), type) for name in amp._LAZY)
    assert set(modules.values()) == {"amp_destinations"}
