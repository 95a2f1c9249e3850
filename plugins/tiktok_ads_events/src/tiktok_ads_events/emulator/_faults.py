"""Fault plans: failures the emulator injects on purpose, counted down request by request.

A fault answers (or delays, or drops) the next ``count`` matching requests, or, with a
``fraction``, each matching request with that probability drawn from a generator seeded
by ``seed`` (default 0), so every run of a test sees the same sequence. A fault with
neither is refused rather than guessed at: "fire always" and "fire once" are both
plausible readings, and a test that meant the other would pass for the wrong reason.
``{"fraction": 1}`` fires always.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import Any

from .._constants import (
    API_PREFIX,
    OFFLINE_GET_PATH,
    OFFLINE_UPDATE_PATH,
    PIXEL_LIST_PATH,
    RATE_LIMITED,
    REFRESH_TOKEN_PATH,
    SERVER_ERROR,
    TRACK_PATH,
)
from ._config import (
    EmulatorConfigError,
    read_bool,
    read_choice,
    read_int,
    read_list,
    read_number,
    read_object,
    read_str,
)

API_PATHS = (TRACK_PATH, OFFLINE_GET_PATH, OFFLINE_UPDATE_PATH, PIXEL_LIST_PATH, REFRESH_TOKEN_PATH)
DEFAULT_PARTIAL_MESSAGE = "Partially successful: some events could not be processed."

# The order in which kinds are consulted for one request; see the README.
KINDS = ("slow", "drop", "http_error", "rate_limit", "server_error", "partial")
_KIND_OPTIONS = {
    "slow": ("seconds",),
    "drop": ("after_accept",),
    "http_error": ("status", "retry_after"),
    "rate_limit": ("code",),
    "server_error": ("code",),
    "partial": ("message",),
}
_COMMON_OPTIONS = ("count", "fraction", "paths")
_HTTP_ERROR_STATUSES = (429, *range(500, 600))


@dataclass
class Fault:
    kind: str
    remaining: int | None
    fraction: float
    paths: frozenset[str]
    seconds: float = 0.0
    after_accept: bool = False
    status: int = 503
    retry_after: int | None = None
    code: int = 0
    message: str = DEFAULT_PARTIAL_MESSAGE

    def describe(self) -> dict:
        """The fault in the configuration format, every field shown, defaults included:
        ``count`` is what is still to come (None when only ``fraction`` limits it)."""
        names = sorted(path.removeprefix(API_PREFIX + "/") for path in self.paths)
        described: dict[str, Any] = {
            "count": self.remaining,
            "fraction": self.fraction,
            "paths": names,
        }
        described.update({name: getattr(self, name) for name in _KIND_OPTIONS[self.kind]})
        return described


@dataclass(frozen=True)
class ParsedFaults:
    faults: dict[str, Fault]
    poison_event_ids: frozenset[str]
    token_expiry_after: int | None
    seed: int


def parse_faults(raw: Any, where: str = "faults") -> ParsedFaults:
    read_object(raw, where, optional=(*KINDS, "seed", "poison_event_ids", "token_expiry_after"))
    faults = {
        kind: _fault(kind, raw[kind], f"{where}.{kind}")
        for kind in KINDS
        if raw.get(kind) is not None
    }
    poison = read_list(raw.get("poison_event_ids", []), f"{where}.poison_event_ids")
    expiry = raw.get("token_expiry_after")
    return ParsedFaults(
        faults=faults,
        poison_event_ids=frozenset(
            read_str(value, f"{where}.poison_event_ids[{i}]") for i, value in enumerate(poison)
        ),
        token_expiry_after=(
            None if expiry is None else read_int(expiry, f"{where}.token_expiry_after")
        ),
        seed=read_int(raw.get("seed", 0), f"{where}.seed"),
    )


def _fault(kind: str, raw: Any, where: str) -> Fault:
    read_object(raw, where, optional=(*_COMMON_OPTIONS, *_KIND_OPTIONS[kind]))
    # null is the same as leaving a field out, so that an echo can be posted back as it is.
    count, fraction = raw.get("count"), raw.get("fraction")
    if count is None and fraction is None:
        raise EmulatorConfigError(
            f"{where}: needs count (the next N matching requests), fraction (the chance "
            'that each matching request is hit; 1 for every one) or both, e.g. {"count": 1}'
        )
    fault = Fault(
        kind=kind,
        remaining=None if count is None else read_int(count, f"{where}.count"),
        fraction=(
            1.0
            if fraction is None
            else read_number(fraction, f"{where}.fraction", low=0.0, high=1.0)
        ),
        paths=_paths(raw.get("paths", ["event/track/"]), f"{where}.paths"),
    )
    if kind == "slow":
        if "seconds" not in raw:
            raise EmulatorConfigError(f"{where}.seconds: required")
        fault.seconds = read_number(raw["seconds"], f"{where}.seconds", low=0.0, high=3600.0)
    elif kind == "drop":
        fault.after_accept = read_bool(raw.get("after_accept", False), f"{where}.after_accept")
    elif kind == "http_error":
        fault.status = read_choice(raw.get("status", 503), f"{where}.status", _HTTP_ERROR_STATUSES)
        if raw.get("retry_after") is not None:
            fault.retry_after = read_int(raw["retry_after"], f"{where}.retry_after")
    elif kind == "rate_limit":
        fault.code = read_choice(
            raw.get("code", 40100), f"{where}.code", tuple(sorted(RATE_LIMITED))
        )
    elif kind == "server_error":
        fault.code = read_choice(
            raw.get("code", 50000), f"{where}.code", tuple(sorted(SERVER_ERROR))
        )
    elif kind == "partial":
        fault.message = read_str(raw.get("message", DEFAULT_PARTIAL_MESSAGE), f"{where}.message")
    return fault


def _paths(raw: Any, where: str) -> frozenset[str]:
    known = {path.removeprefix(API_PREFIX + "/"): path for path in API_PATHS}
    if raw == "*":
        return frozenset(API_PATHS)
    names = read_list(raw, where)
    return frozenset(
        known[read_choice(name, f"{where}[{i}]", tuple(known))] for i, name in enumerate(names)
    )


class FaultPlan:
    """The faults armed now. Thread-safe: each matching request consumes one count."""

    def __init__(self, config: dict | None = None):
        self._lock = threading.Lock()
        # Bumped by every configure(), so per-token use counts restart with a new plan.
        self.generation = 0
        self.configure(config or {})

    def configure(self, config: dict) -> None:
        """Replace every armed fault with ``config`` (validated first; nothing changes on error)."""
        parsed = parse_faults(config)
        with self._lock:
            self._faults = parsed.faults
            self._random = random.Random(parsed.seed)
            self._seed = parsed.seed
            self.poison_event_ids = parsed.poison_event_ids
            self.token_expiry_after = parsed.token_expiry_after
            self.generation += 1

    def take(self, kind: str, path: str) -> Fault | None:
        """The fault of this kind for this request, if it fires; firing consumes one count."""
        fault = self._faults.get(kind)
        if fault is None or path not in fault.paths:
            return None
        with self._lock:
            if fault.remaining == 0:
                return None
            if fault.fraction < 1.0 and self._random.random() >= fault.fraction:
                return None
            if fault.remaining is not None:
                fault.remaining -= 1
            return fault

    def take_drop(self, path: str, *, accepted: bool) -> Fault | None:
        """A drop fires either before the request is handled or only once it was accepted."""
        fault = self._faults.get("drop")
        if fault is None or fault.after_accept is not accepted:
            return None
        return self.take("drop", path)

    def snapshot(self) -> dict:
        """The armed faults in the configuration format, counts as they stand now."""
        with self._lock:
            described: dict[str, Any] = {
                kind: fault.describe() for kind, fault in self._faults.items()
            }
            described["seed"] = self._seed
            if self.poison_event_ids:
                described["poison_event_ids"] = sorted(self.poison_event_ids)
            if self.token_expiry_after is not None:
                described["token_expiry_after"] = self.token_expiry_after
            return described
