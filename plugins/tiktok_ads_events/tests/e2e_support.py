"""Shared pieces of the end-to-end tests (test_e2e_*.py): the emulator's seeded account,
input files made by examples/make_events.py, the event each valid row must become
(computed here independently of the plugin), the CLI as a subprocess, and a host wired
to an in-memory keyring.

The tests folder is not a package and pytest runs with ``--import-mode=importlib``, so
the test modules put this folder on ``sys.path`` and import this module by name.
"""

from __future__ import annotations

import calendar
import csv
import hashlib
import importlib.util
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from amp_destinations import Host, RetryPolicy, SecretStore
from amp_destinations.testing import MemoryKeyring

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "examples"
SHIPPED_EVENTS = EXAMPLES / "events.csv"
SHIPPED_ROWS = 1200

# The emulator's packaged default seed.
ADVERTISER_ID = "7000000000000000001"
EVENT_SET_ID = "7100000000000000001"
EVENT_SET_NAME = "Store sales"
LONG_TERM_TOKEN = "emulator-token"
APP_ID = "7200000000000000001"
APP_SECRET = "emulator-secret"
APP_REFRESH_TOKEN = "emulator-refresh-token"
DESTINATION_TYPE = "tiktok-offline-events"

# Fault tests retry within milliseconds instead of seconds.
FAST_RETRY = RetryPolicy(base_delay=0.01, max_delay=0.05)
# The longest any subprocess of these tests may run before it counts as hung.
PROCESS_TIMEOUT = 60.0


def _load_make_events():
    spec = importlib.util.spec_from_file_location(
        "amp_e2e_make_events", EXAMPLES / "make_events.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_events = _load_make_events()


# -- input files ----------------------------------------------------------------------


def write_refreshed_events(path: Path) -> Path:
    """examples/events.csv with its timestamps shifted to end an hour ago, as the demo does."""
    with open(path, "w", newline="", encoding="utf-8") as out:
        make_events.refresh(str(SHIPPED_EVENTS), out)
    return path


def write_generated_events(path: Path, count: int, seed: int = 7) -> Path:
    """``count`` rows of examples/make_events.py; another ``seed``, other event ids."""
    with open(path, "w", newline="", encoding="utf-8") as out:
        make_events.write_rows(make_events.make_rows(count, time.time(), seed), out)
    return path


def read_rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def valid_rows(rows: list[dict]) -> dict[str, dict]:
    """event_id -> row for every row that is not rejected on purpose."""
    rejected = make_events.expected_rejects(len(rows))
    return {
        row["event_id"]: row for number, row in enumerate(rows, start=1) if number not in rejected
    }


# -- what TikTok must receive, computed without the plugin -----------------------------


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def expected_event_time(timestamp: str) -> int:
    if timestamp.isdigit():
        return int(timestamp)
    return calendar.timegm(time.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ"))


def expected_phone(phone: str) -> str | None:
    """The hash TikTok must get: E.164 as given, or a US national number with +1."""
    if phone.startswith("+"):
        return sha256_hex(phone)
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) == 10:
        return sha256_hex("+1" + digits)
    return None


def expected_user(row: dict) -> dict:
    user = {"email": sha256_hex(row["email"].strip().lower())}
    phone = expected_phone(row["phone"])
    if phone:
        user["phone"] = phone
    if row["external_id"]:
        user["external_id"] = sha256_hex(row["external_id"].strip())
    return user


def expected_value(row: dict) -> float:
    if row["value"]:
        return float(row["value"])
    return float(row["price"]) * int(row["quantity"])


# -- counts -----------------------------------------------------------------------------


def assert_counts_add_up(counts: dict) -> None:
    settled = counts["delivered"] + counts["rejected"] + counts.get("already_sent", 0)
    assert counts["rows_read"] == settled + counts["pending"]


def assert_stored_once(emulator, expected_ids: set[str]) -> list[dict]:
    """Every expected event is stored, nothing else is, and none is stored twice."""
    events = emulator.state.events(EVENT_SET_ID)
    ids = [event["event_id"] for event in events]
    assert len(ids) == len(set(ids))
    assert set(ids) == expected_ids
    return events


# -- the Python API ---------------------------------------------------------------------


def new_host(home: Path) -> Host:
    return Host(home, secrets=SecretStore(backend=MemoryKeyring(), environ={}))


def add_tiktok(host: Host, base_url: str, *, app: bool = False, name: str = "tiktok") -> str:
    """A credential and a destination for the seeded event set; returns the destination."""
    if app:
        host.add_credential(
            f"{name}-cred",
            DESTINATION_TYPE,
            {"app_id": APP_ID},
            {"refresh_token": APP_REFRESH_TOKEN, "app_secret": APP_SECRET},
        )
    else:
        host.add_credential(
            f"{name}-cred", DESTINATION_TYPE, {}, {"refresh_token": LONG_TERM_TOKEN}
        )
    host.add_destination(
        name,
        DESTINATION_TYPE,
        f"{name}-cred",
        {
            "advertiser_id": ADVERTISER_ID,
            "event_set_id": EVENT_SET_ID,
            "api_base_url": base_url,
        },
    )
    return name


# -- the CLI as an operator runs it -----------------------------------------------------


def cli_env(home: Path, **secrets: str) -> dict:
    """The environment of one operator: a private home, secrets from the environment
    (``AMP_DEST_SECRET_*``, given here as keyword arguments), and no keyring."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AMP_DEST_")}
    env["AMP_DEST_HOME"] = str(home)
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(secrets)
    return env


def amp_dest_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "amp_destinations", *args]


def amp_dest(
    env: dict, *args: str, timeout: float = PROCESS_TIMEOUT
) -> subprocess.CompletedProcess:
    return subprocess.run(
        amp_dest_command(*args), env=env, capture_output=True, text=True, timeout=timeout, cwd=REPO
    )


def keyring_env(home: Path, keyring_dir: Path, **secrets: str) -> dict:
    """``cli_env`` with a keyring that keeps secrets from one command to the next, as an
    authorization needs: keyrings.alt's file backend in ``keyring_dir`` (outside the
    home), which the host allows on a test machine that opts in. ``BROWSER=true``: no
    real browser is ever opened; the test plays it."""
    env = cli_env(home, **secrets)
    env.update(
        PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring",
        AMP_DEST_ALLOW_INSECURE_KEYRING="1",
        XDG_DATA_HOME=str(keyring_dir),
        BROWSER="true",
    )
    return env


def authorizing(
    env: dict,
    *args: str,
    respond: Callable[[str], str | None],
    first_line: str | None = None,
) -> subprocess.CompletedProcess:
    """Run ``amp-dest credentials authorize|reauthorize ...`` as a person meets it: write
    ``first_line`` (piped secrets) to its stdin, read the authorization page's address
    from its stderr and call ``respond(url)``, the person at the browser; what it returns
    is pasted on stdin with ``--no-browser``; without it stdin ends after ``first_line``,
    as the command reads piped secrets to the end. Bounded by PROCESS_TIMEOUT."""
    pasting = "--no-browser" in args
    process = subprocess.Popen(
        amp_dest_command(*args),
        env=env,
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out: list[str] = []
    err: list[str] = []
    seen: queue.Queue[str | None] = queue.Queue()

    def read(stream, lines: list[str], tell: bool) -> None:
        for line in stream:
            lines.append(line)
            if tell:
                seen.put(line)
        if tell:
            seen.put(None)

    readers = [
        threading.Thread(target=read, args=(process.stdout, out, False), daemon=True),
        threading.Thread(target=read, args=(process.stderr, err, True), daemon=True),
    ]
    for reader in readers:
        reader.start()
    try:
        if first_line is not None:
            process.stdin.write(first_line + "\n")
            process.stdin.flush()
        if not pasting:
            process.stdin.close()
        deadline = time.monotonic() + PROCESS_TIMEOUT
        while (line := seen.get(timeout=max(0.1, deadline - time.monotonic()))) is not None:
            if "/portal/auth?" in line:
                pasted = respond(line.strip())
                if pasting and pasted is not None:
                    process.stdin.write(pasted + "\n")
                break
        if pasting:
            process.stdin.close()
        process.wait(timeout=PROCESS_TIMEOUT)
    finally:
        stop_process(process)
        for reader in readers:
            reader.join(timeout=PROCESS_TIMEOUT)
    return subprocess.CompletedProcess(process.args, process.returncode, "".join(out), "".join(err))


def the_error(completed: subprocess.CompletedProcess) -> str:
    """The one error line a failed command ends its stderr with (after the flow's own
    instructions and the test keyring's warning), checked to be the only one."""
    assert completed.returncode != 0, completed.stdout + completed.stderr
    assert "Traceback" not in completed.stderr
    lines = completed.stderr.splitlines()
    errors = [line for line in lines if line.startswith("amp-dest: error:")]
    assert errors == lines[-1:], completed.stderr
    return errors[0].removeprefix("amp-dest: error: ")


def stop_process(process: subprocess.Popen) -> None:
    """Teardown: a process a test started never outlives it."""
    if process.poll() is None:
        process.kill()
    process.wait(timeout=PROCESS_TIMEOUT)
