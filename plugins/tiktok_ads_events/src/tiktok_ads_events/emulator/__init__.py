"""A local TikTok Events API for tests and development (like moto for AWS).

    with Emulator() as emu:                      # packaged default seed
        httpx.post(emu.url(TRACK_PATH), ...)
        emu.state.events("7100000000000000001")

Or from a shell: ``python -m tiktok_ads_events.emulator --port 0 --seed seed.json``.
See README.md beside this file for the seed format, faults and admin endpoints.
"""

from ._config import EmulatorConfigError
from ._emulator import Emulator
from ._seed import Seed, load_seed
from ._state import EmulatorState

__all__ = ["Emulator", "EmulatorConfigError", "EmulatorState", "Seed", "load_seed"]
