"""``python -m tiktok_ads_events.emulator``: run the emulator in the foreground."""

from .cli import emulator

emulator(prog_name="python -m tiktok_ads_events.emulator")
