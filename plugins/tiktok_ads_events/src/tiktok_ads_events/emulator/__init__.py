"""A local TikTok Events API for tests and development (like moto for AWS).

    with Emulator() as emu:                      # packaged default seed
        httpx.post(emu.url(TRACK_PATH), ...)
        emu.state.events("7100000000000000001")
        approve(authorization_url)               # the browser's part: the redirected URL

Or from a shell: ``python -m tiktok_ads_events.emulator --port 0 --seed seed.json``.
See README.md beside this file for the seed format, faults and admin endpoints.
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_names

if TYPE_CHECKING:
    from ._approve import ApprovalFailed, approve
    from ._config import EmulatorConfigError
    from ._emulator import Emulator
    from ._seed import Seed, load_seed
    from ._state import EmulatorState

__all__ = [
    "ApprovalFailed",
    "Emulator",
    "EmulatorConfigError",
    "EmulatorState",
    "Seed",
    "approve",
    "load_seed",
]

# Imported on first use, so that the CLI command in .cli loads without the server.
_LAZY = {
    "ApprovalFailed": "_approve",
    "approve": "_approve",
    "Emulator": "_emulator",
    "EmulatorConfigError": "_config",
    "EmulatorState": "_state",
    "Seed": "_seed",
    "load_seed": "_seed",
}


__getattr__ = lazy_names(__name__, _LAZY)
