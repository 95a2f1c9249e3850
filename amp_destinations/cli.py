"""The ``amp-dest`` command group, for plugins' tests of ``register_commands``.

``build_cli(registry)`` returns a fresh click group bound to a registry (loaded from
the installed plugins when not given), with the commands plugins add through the
``register_commands`` hook; ``main(argv)`` is the ``amp-dest`` console script. Invoke
the group with ``click.testing.CliRunner``::

    from click.testing import CliRunner
    from amp_destinations.cli import build_cli

    registry = amp_destinations.load_plugins(entry_points=False, extra=[my_plugin])
    result = CliRunner().invoke(build_cli(registry), ["my-command"])
"""

from __future__ import annotations

from ._cli import build_cli, main

__all__ = ["build_cli", "main"]
