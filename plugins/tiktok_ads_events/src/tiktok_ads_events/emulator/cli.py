"""The ``emulator`` command: run the emulator in the foreground until SIGINT or SIGTERM.

This module imports click only, so that the host can list the command cheaply."""

from __future__ import annotations

import gc
import os
import signal
import sys
import time
from pathlib import Path

import click

_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


@click.command("emulator")
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Loopback address to listen on."
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="0 picks a free port.",
)
@click.option(
    "--seed",
    "seed_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Seed JSON file (tokens, apps, advertisers, faults). Default: the packaged default seed.",
)
@click.option(
    "--ready-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the base URL to this file once listening.",
)
@click.option(
    "--verbose", is_flag=True, help="Log one line per request to stderr (no tokens, no bodies)."
)
def emulator(
    host: str, port: int, seed_path: Path | None, ready_file: Path | None, verbose: bool
) -> None:
    """Run a local TikTok Events API emulator until interrupted.

    Prints the base URL as one line on stdout once listening; stops on SIGINT or
    SIGTERM, printing "stopped" on stderr.
    """
    # The server is imported when it runs, not when `amp-dest --help` lists this command.
    from ._config import EmulatorConfigError
    from ._emulator import Emulator, is_loopback
    from ._server import logger

    if not is_loopback(host):
        raise click.BadParameter(
            "must be a loopback address such as 127.0.0.1", param_hint="--host"
        )
    try:
        emu = Emulator(seed_path, host=host, port=port, verbose=verbose)
    except EmulatorConfigError as error:
        raise click.ClickException(str(error)) from None
    if verbose:
        import logging

        logger.addHandler(logging.StreamHandler(sys.stderr))
        logger.setLevel(logging.INFO)
    _tune_garbage_collector()
    # Block the stop signals before the server threads exist, so they inherit the mask
    # and only this thread receives them, synchronously, in sigwait().
    can_sigwait = hasattr(signal, "pthread_sigmask")
    previous_mask = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS) if can_sigwait else None
    try:
        try:
            emu.start()
        except OSError as error:
            raise click.ClickException(
                f"cannot listen on {host}:{port}: {error.strerror}"
            ) from None
        try:
            # The file first: whoever reads the URL on stdout may rely on the file too.
            if ready_file is not None:
                _write_atomically(ready_file, emu.base_url + "\n")
            click.echo(emu.base_url)
            sys.stdout.flush()
            _wait_for_stop_signal(can_sigwait)
        finally:
            emu.stop()
        click.echo("stopped", err=True)
    finally:
        if previous_mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous_mask)


def _tune_garbage_collector() -> None:
    """This process only serves the emulator, so tune the collector for it.

    Parsing one 1,000-event body creates ~5,000 containers: with the default thresholds
    (700) collections run inside every parse and promote the half-built body to older
    generations, whose full collections then took about half the CPU per request
    (measured: 154 against 319 requests a second). JSON bodies hold no reference cycles,
    so collecting rarely costs nothing; start-up objects move out of its way entirely.
    """
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


def _wait_for_stop_signal(can_sigwait: bool) -> None:
    if can_sigwait:
        signal.sigwait(_STOP_SIGNALS)
        return
    try:  # Windows: Ctrl-C arrives as KeyboardInterrupt; SIGTERM ends the process anyway.
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


def _write_atomically(path: Path, text: str) -> None:
    """A script polling for the file never reads it half-written."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
