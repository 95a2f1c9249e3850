"""The seed: which tokens, apps, advertisers, event sets (offline and CRM) and pixels
exist at start, and
who is signed in to the authorization page."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson

from .._constants import REQUIRED_SCOPES
from ._config import (
    EmulatorConfigError,
    read_bool,
    read_choice,
    read_int,
    read_list,
    read_object,
    read_str,
)
from ._faults import parse_faults

ROLES = ("admin", "operator", "analyst")
TOKEN_STATUSES = ("active", "expired", "revoked")
DEFAULT_SEED_NAME = "default_seed.json"


@dataclass(frozen=True)
class SeedToken:
    token: str = field(repr=False)
    advertiser_ids: frozenset[str]
    role: str
    status: str = "active"


@dataclass(frozen=True)
class SeedApp:
    app_id: str
    secret: str = field(repr=False)
    refresh_tokens: tuple[SeedToken, ...]
    # Where the authorization page may send the person back to, and the permission
    # scopes an authorization of this app grants.
    redirect_uris: tuple[str, ...] = ()
    scopes: tuple[str, ...] = tuple(REQUIRED_SCOPES)


@dataclass(frozen=True)
class SeedUser:
    """The person signed in to the authorization page: the ad accounts they can
    authorize, with their role on them."""

    name: str
    advertiser_ids: frozenset[str]
    role: str


@dataclass(frozen=True)
class SeedEventSet:
    event_set_id: str
    name: str
    auto_tracking: bool


@dataclass(frozen=True)
class SeedCrmEventSet:
    event_set_id: str
    name: str


@dataclass(frozen=True)
class SeedPixel:
    code: str
    name: str
    pixel_id: str


@dataclass(frozen=True)
class SeedAdvertiser:
    advertiser_id: str
    name: str
    event_sets: tuple[SeedEventSet, ...]
    pixels: tuple[SeedPixel, ...]
    crm_event_sets: tuple[SeedCrmEventSet, ...] = ()


@dataclass(frozen=True)
class Seed:
    access_tokens: tuple[SeedToken, ...]
    apps: tuple[SeedApp, ...]
    advertisers: tuple[SeedAdvertiser, ...]
    faults: dict
    portal_user: SeedUser
    store_events: bool = True
    idle_timeout: int = 30


def load_seed(source: dict | str | os.PathLike | None = None) -> Seed:
    """Read a seed from a dict, a JSON file path, or (None) the packaged default seed."""
    if source is None:
        raw = orjson.loads(resources.files(__package__).joinpath(DEFAULT_SEED_NAME).read_bytes())
    elif isinstance(source, dict):
        raw = source
    else:
        path = Path(source)
        try:
            raw = orjson.loads(path.read_bytes())
        except OSError as error:
            message = f"seed file {path}: cannot be read ({error.strerror})"
            raise EmulatorConfigError(message) from None
        except orjson.JSONDecodeError:
            raise EmulatorConfigError(f"seed file {path}: is not valid JSON") from None
    return parse_seed(raw)


def parse_seed(raw: Any) -> Seed:
    read_object(
        raw,
        "seed",
        optional=("access_tokens", "apps", "advertisers", "portal_user", "faults", "options"),
    )
    advertisers = tuple(
        _advertiser(item, f"seed.advertisers[{i}]")
        for i, item in enumerate(read_list(raw.get("advertisers", []), "seed.advertisers"))
    )
    _check_unique(advertisers)
    every_advertiser = frozenset(advertiser.advertiser_id for advertiser in advertisers)
    tokens = tuple(
        _token(item, f"seed.access_tokens[{i}]", every_advertiser, with_status=True)
        for i, item in enumerate(read_list(raw.get("access_tokens", []), "seed.access_tokens"))
    )
    apps = tuple(
        _app(item, f"seed.apps[{i}]", every_advertiser)
        for i, item in enumerate(read_list(raw.get("apps", []), "seed.apps"))
    )
    options = read_object(
        raw.get("options", {}), "seed.options", optional=("store_events", "idle_timeout_seconds")
    )
    faults = raw.get("faults", {})
    parse_faults(faults, "seed.faults")
    return Seed(
        access_tokens=tokens,
        apps=apps,
        advertisers=advertisers,
        faults=faults,
        portal_user=_portal_user(raw.get("portal_user", {}), every_advertiser),
        store_events=read_bool(options.get("store_events", True), "seed.options.store_events"),
        idle_timeout=read_int(
            options.get("idle_timeout_seconds", 30), "seed.options.idle_timeout_seconds", minimum=1
        ),
    )


def _token(
    raw: Any, where: str, every_advertiser: frozenset[str], *, with_status: bool
) -> SeedToken:
    optional = ("advertiser_ids", "role", "status") if with_status else ("advertiser_ids", "role")
    read_object(raw, where, required=("token",), optional=optional)
    return SeedToken(
        token=read_str(raw["token"], f"{where}.token"),
        advertiser_ids=_advertiser_ids(raw, where, every_advertiser),
        role=read_choice(raw.get("role", "admin"), f"{where}.role", ROLES),
        status=read_choice(raw.get("status", "active"), f"{where}.status", TOKEN_STATUSES),
    )


def _advertiser_ids(raw: dict, where: str, every_advertiser: frozenset[str]) -> frozenset[str]:
    """The ``advertiser_ids`` listed, or every seeded advertiser when none are."""
    if "advertiser_ids" not in raw:
        return every_advertiser
    ids = read_list(raw["advertiser_ids"], f"{where}.advertiser_ids")
    return frozenset(
        read_str(value, f"{where}.advertiser_ids[{i}]", digits=True) for i, value in enumerate(ids)
    )


def _app(raw: Any, where: str, every_advertiser: frozenset[str]) -> SeedApp:
    read_object(
        raw,
        where,
        required=("app_id", "secret"),
        optional=("refresh_tokens", "redirect_uris", "scopes"),
    )
    refresh_tokens = read_list(raw.get("refresh_tokens", []), f"{where}.refresh_tokens")
    redirect_uris = read_list(raw.get("redirect_uris", []), f"{where}.redirect_uris")
    scopes = read_list(raw.get("scopes", list(REQUIRED_SCOPES)), f"{where}.scopes")
    return SeedApp(
        app_id=read_str(raw["app_id"], f"{where}.app_id"),
        secret=read_str(raw["secret"], f"{where}.secret"),
        refresh_tokens=tuple(
            _token(item, f"{where}.refresh_tokens[{i}]", every_advertiser, with_status=False)
            for i, item in enumerate(refresh_tokens)
        ),
        redirect_uris=tuple(
            _redirect_uri(item, f"{where}.redirect_uris[{i}]")
            for i, item in enumerate(redirect_uris)
        ),
        scopes=tuple(read_str(item, f"{where}.scopes[{i}]") for i, item in enumerate(scopes)),
    )


def _redirect_uri(raw: Any, where: str) -> str:
    value = read_str(raw, where)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment:
        raise EmulatorConfigError(f"{where}: must be an http or https URL without a fragment")
    return value


def _portal_user(raw: Any, every_advertiser: frozenset[str]) -> SeedUser:
    where = "seed.portal_user"
    read_object(raw, where, optional=("name", "advertiser_ids", "role"))
    return SeedUser(
        name=read_str(raw.get("name", "Emulator operator"), f"{where}.name"),
        advertiser_ids=_advertiser_ids(raw, where, every_advertiser),
        role=read_choice(raw.get("role", "admin"), f"{where}.role", ROLES),
    )


def _advertiser(raw: Any, where: str) -> SeedAdvertiser:
    read_object(
        raw,
        where,
        required=("advertiser_id",),
        optional=("name", "event_sets", "pixels", "crm_event_sets"),
    )
    event_sets = []
    for i, item in enumerate(read_list(raw.get("event_sets", []), f"{where}.event_sets")):
        at = f"{where}.event_sets[{i}]"
        read_object(item, at, required=("event_set_id", "name"), optional=("auto_tracking",))
        event_sets.append(
            SeedEventSet(
                event_set_id=read_str(item["event_set_id"], f"{at}.event_set_id", digits=True),
                name=read_str(item["name"], f"{at}.name"),
                auto_tracking=read_bool(item.get("auto_tracking", False), f"{at}.auto_tracking"),
            )
        )
    pixels = []
    for i, item in enumerate(read_list(raw.get("pixels", []), f"{where}.pixels")):
        at = f"{where}.pixels[{i}]"
        read_object(item, at, required=("code", "name"), optional=("pixel_id",))
        code = read_str(item["code"], f"{at}.code")
        pixels.append(
            SeedPixel(
                code=code,
                name=read_str(item["name"], f"{at}.name"),
                pixel_id=read_str(
                    item.get("pixel_id", _derived_pixel_id(code)), f"{at}.pixel_id", digits=True
                ),
            )
        )
    crm_event_sets = []
    for i, item in enumerate(read_list(raw.get("crm_event_sets", []), f"{where}.crm_event_sets")):
        at = f"{where}.crm_event_sets[{i}]"
        read_object(item, at, required=("event_set_id", "name"))
        crm_event_sets.append(
            SeedCrmEventSet(
                event_set_id=read_str(item["event_set_id"], f"{at}.event_set_id", digits=True),
                name=read_str(item["name"], f"{at}.name"),
            )
        )
    advertiser_id = read_str(raw["advertiser_id"], f"{where}.advertiser_id", digits=True)
    return SeedAdvertiser(
        advertiser_id=advertiser_id,
        name=read_str(raw.get("name", f"Advertiser {advertiser_id}"), f"{where}.name"),
        event_sets=tuple(event_sets),
        pixels=tuple(pixels),
        crm_event_sets=tuple(crm_event_sets),
    )


def _derived_pixel_id(code: str) -> str:
    """A stable numeric id for a pixel seeded without one, so answers always carry it."""
    return str(int.from_bytes(hashlib.sha256(code.encode()).digest()[:7], "big"))


def _check_unique(advertisers: tuple[SeedAdvertiser, ...]) -> None:
    """Ids are global at TikTok: an event set (offline or CRM) or pixel belongs to exactly
    one advertiser."""
    seen: set[str] = set()
    for kind, ids in (
        ("advertiser_id", [a.advertiser_id for a in advertisers]),
        (
            "event_set_id",
            [s.event_set_id for a in advertisers for s in a.event_sets]
            + [s.event_set_id for a in advertisers for s in a.crm_event_sets],
        ),
        ("pixel code", [p.code for a in advertisers for p in a.pixels]),
    ):
        seen.clear()
        for value in ids:
            if value in seen:
                raise EmulatorConfigError(f"seed.advertisers: {kind} appears twice")
            seen.add(value)
