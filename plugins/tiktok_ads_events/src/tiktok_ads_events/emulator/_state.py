"""What the emulator knows and has received: accounts, tokens, stored events, counters."""

from __future__ import annotations

import secrets
import threading
from collections import Counter, deque
from dataclasses import dataclass
from enum import Enum
from operator import itemgetter

import orjson

from ._faults import FaultPlan
from ._grants import AuthCodes, Grant
from ._seed import Seed, SeedApp, SeedToken

ACCESS_TOKEN_EXPIRE_IN = 86_400
REFRESH_TOKEN_EXPIRE_IN = 31_536_000
# Test events kept per event set, as Events Manager lists the latest only.
MAX_TEST_EVENTS = 10_000
_get_event = itemgetter("event")
_get_event_id = itemgetter("event_id")


class TokenStatus(Enum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


@dataclass
class AccessToken:
    advertiser_ids: frozenset[str]
    role: str
    long_term: bool
    status: TokenStatus = TokenStatus.ACTIVE
    uses: int = 0
    fault_generation: int = 0
    # The app an authorization issued it to; None for seeded and refreshed tokens.
    app_id: str | None = None


@dataclass(frozen=True)
class RefreshGrant:
    advertiser_ids: frozenset[str]
    role: str


class RefreshOutcome(Enum):
    ISSUED = "issued"
    BAD_CLIENT = "bad_client"
    LONG_TERM = "long_term"
    INVALID_TOKEN = "invalid_token"


@dataclass
class EventSet:
    advertiser_id: str
    event_set_id: str
    name: str
    auto_tracking: bool


class EmulatorState:
    """Thread-safe state behind one emulator, inspectable in-process by tests.

    ``reset()`` returns it to the seed: no events, no counts, seeded tokens only, the
    start-up faults armed again.
    """

    def __init__(self, seed: Seed, faults: dict | None = None):
        self._seed = seed
        self._startup_faults = {**seed.faults, **(faults or {})}
        self._lock = threading.Lock()
        self.store_events = seed.store_events
        self.fault_plan = FaultPlan(self._startup_faults)
        self._advertisers = {a.advertiser_id: a for a in seed.advertisers}
        self._pixel_owners = {p.code: a.advertiser_id for a in seed.advertisers for p in a.pixels}
        self._crm_owners = {
            s.event_set_id: a.advertiser_id for a in seed.advertisers for s in a.crm_event_sets
        }
        self._apps = {app.app_id: app for app in seed.apps}
        self.portal_user = seed.portal_user
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.fault_plan.configure(self._startup_faults)
            self._event_sets = {
                s.event_set_id: EventSet(a.advertiser_id, s.event_set_id, s.name, s.auto_tracking)
                for a in self._seed.advertisers
                for s in a.event_sets
            }
            self._tokens = {t.token: _seeded_access_token(t) for t in self._seed.access_tokens}
            self._refresh_grants = {
                (app.app_id, t.token): RefreshGrant(t.advertiser_ids, t.role)
                for app in self._seed.apps
                for t in app.refresh_tokens
            }
            # Per event set: (request body, positions of its new events, or None for all).
            self._events: dict[str, list[tuple[bytes, list[int] | None]]] = {}
            self._seen: dict[str, dict[str, set[str]]] = {}
            self._accepted: Counter[str] = Counter()
            self._requests: Counter[str] = Counter()
            self._duplicates = 0
            # Per event set: (test event code, event), the latest MAX_TEST_EVENTS.
            self._test_events: dict[str, deque[tuple[str, dict]]] = {}
            self.auth_codes = AuthCodes()

    # What tests read.

    def events(self, event_set_id: str) -> list[dict]:
        """Events stored for an event set id or pixel code, in arrival order, once each."""
        with self._lock:
            batches = list(self._events.get(event_set_id, ()))
        events: list[dict] = []
        for body, positions in batches:
            data = orjson.loads(body)["data"]
            events.extend(data if positions is None else [data[position] for position in positions])
        return events

    def test_events(self, event_set_id: str) -> list[dict]:
        """Test events received for an event set, in arrival order, each with its code:
        what Events Manager's Test Events tab lists."""
        with self._lock:
            received = list(self._test_events.get(event_set_id, ()))
        return [{"test_event_code": code, "event": event} for code, event in received]

    def event_count(self, event_set_id: str) -> int:
        """Distinct events accepted for an event set (counted even when events are not kept)."""
        with self._lock:
            return self._accepted[event_set_id]

    def request_count(self, path: str) -> int:
        """Requests received for a path (query excluded), whatever the answer."""
        with self._lock:
            return self._requests[path]

    @property
    def duplicates(self) -> int:
        """Events accepted but not stored again: (event set, event, event_id) was stored."""
        with self._lock:
            return self._duplicates

    def event_set(self, event_set_id: str) -> EventSet | None:
        with self._lock:
            found = self._event_sets.get(event_set_id)
            return None if found is None else EventSet(**vars(found))

    def configure_faults(self, config: dict) -> None:
        """Replace the armed faults (same format as the seed's ``faults``)."""
        self.fault_plan.configure(config)

    def stats(self) -> dict:
        with self._lock:
            return {
                "requests": dict(self._requests),
                "events": dict(self._accepted),
                "duplicates": self._duplicates,
                "test_events": {key: len(kept) for key, kept in self._test_events.items()},
                "faults": self.fault_plan.snapshot(),
            }

    # What the API uses.

    def count_request(self, path: str) -> None:
        with self._lock:
            self._requests[path] += 1

    def authenticate(self, token: str) -> tuple[TokenStatus, AccessToken | None]:
        """Look a token up and count one use of it (a token may expire by use, see faults)."""
        expiry_after = self.fault_plan.token_expiry_after
        generation = self.fault_plan.generation
        with self._lock:
            found = self._tokens.get(token)
            if found is None:
                return TokenStatus.UNKNOWN, None
            if found.status is TokenStatus.ACTIVE and expiry_after is not None:
                if found.fault_generation != generation:
                    found.fault_generation, found.uses = generation, 0
                found.uses += 1
                if found.uses > expiry_after:
                    found.status = TokenStatus.EXPIRED
            return found.status, found

    def has_advertiser(self, advertiser_id: str) -> bool:
        return advertiser_id in self._advertisers

    def event_sets_of(self, advertiser_id: str) -> list[EventSet]:
        with self._lock:
            return [
                EventSet(**vars(s))
                for s in self._event_sets.values()
                if s.advertiser_id == advertiser_id
            ]

    def pixels_of(self, advertiser_id: str) -> tuple:
        return self._advertisers[advertiser_id].pixels

    def crm_event_sets_of(self, advertiser_id: str) -> tuple:
        return self._advertisers[advertiser_id].crm_event_sets

    def owner_of(self, event_source: str, event_source_id: str) -> str | None:
        """The advertiser owning an offline or CRM event set or a pixel, or None when not
        seeded."""
        if event_source == "web":
            return self._pixel_owners.get(event_source_id)
        if event_source == "crm":
            return self._crm_owners.get(event_source_id)
        found = self._event_sets.get(event_source_id)
        return None if found is None else found.advertiser_id

    def update_event_set(self, event_set_id: str, *, auto_tracking: bool, name: str | None) -> None:
        with self._lock:
            event_set = self._event_sets[event_set_id]
            event_set.auto_tracking = auto_tracking
            if name is not None:
                event_set.name = name

    def store_test_events(self, event_source_id: str, code: str, events: list[dict]) -> None:
        with self._lock:
            kept = self._test_events.setdefault(event_source_id, deque(maxlen=MAX_TEST_EVENTS))
            kept.extend((code, event) for event in events)

    def store(self, event_source_id: str, events: list[dict], body: bytes) -> int:
        """Store events once per (event set, event, event_id); return how many were new.

        What is kept is the request body (one bytes object, invisible to the garbage
        collector) and the positions of the new events in it; ``events()`` parses it again.
        Millions of kept dicts would make every collection, and so every request, slower.
        """
        names = list(map(_get_event, events))
        ids = list(map(_get_event_id, events))
        with self._lock:
            # Seen ids are kept per event name as sets of strings, untracked by the collector too.
            seen_by_name = self._seen.setdefault(event_source_id, {})
            new_positions: list[int] | None = None
            seen = seen_by_name.setdefault(names[0], set())
            if names.count(names[0]) == len(names) and seen.isdisjoint(ids):
                # The common batch, one event name and nothing seen before: set operations in C.
                before = len(seen)
                seen.update(ids)
                if len(seen) - before != len(ids):  # an id repeated within the batch
                    new_positions = _first_positions(ids)
            else:
                new_positions = self._new_positions(seen_by_name, names, ids)
            added = len(ids) if new_positions is None else len(new_positions)
            if added and self.store_events:
                self._events.setdefault(event_source_id, []).append((body, new_positions))
            self._duplicates += len(events) - added
            self._accepted[event_source_id] += added
            return added

    @staticmethod
    def _new_positions(
        seen_by_name: dict[str, set[str]], names: list[str], ids: list[str]
    ) -> list[int]:
        positions = []
        for position, (name, event_id) in enumerate(zip(names, ids)):
            seen = seen_by_name.setdefault(name, set())
            before = len(seen)
            seen.add(event_id)
            if len(seen) != before:
                positions.append(position)
        return positions

    def app(self, app_id: str) -> SeedApp | None:
        return self._apps.get(app_id)

    def check_app(self, app_id: str, secret: str) -> SeedApp | None:
        """The app with this id, if ``secret`` is its secret."""
        app = self._apps.get(app_id)
        if app is None or not secrets.compare_digest(app.secret.encode(), secret.encode()):
            return None
        return app

    def advertiser_name(self, advertiser_id: str) -> str:
        found = self._advertisers.get(advertiser_id)
        return found.name if found is not None else f"Advertiser {advertiser_id}"

    def issue_access_token(self, grant: Grant) -> str:
        """A long-term access token for an approved authorization, as TikTok gives
        advertiser accounts."""
        token = "act." + secrets.token_hex(20)
        with self._lock:
            self._tokens[token] = AccessToken(
                grant.advertiser_ids, grant.role, long_term=True, app_id=grant.app_id
            )
        return token

    def tokens_issued_to(self, app_id: str) -> list[str]:
        """The access tokens authorizations issued to an app, for tests that check where
        a token must never appear."""
        with self._lock:
            return [value for value, found in self._tokens.items() if found.app_id == app_id]

    def revoke(self, *, token: str | None = None, app_id: str | None = None) -> int:
        """Revoke one access token, or every token an authorization issued to an app
        (what a person's revoking the app does); returns how many were revoked."""
        with self._lock:
            revoked = 0
            for value, found in self._tokens.items():
                if found.status is TokenStatus.REVOKED:
                    continue
                if value == token or (app_id is not None and found.app_id == app_id):
                    found.status = TokenStatus.REVOKED
                    revoked += 1
            return revoked

    def refresh(self, app_id: str, secret: str, refresh_token: str) -> tuple[RefreshOutcome, dict]:
        """Exchange a refresh token: a new access token, and the refresh token rotated."""
        if self.check_app(app_id, secret) is None:
            return RefreshOutcome.BAD_CLIENT, {}
        with self._lock:
            grant = self._refresh_grants.pop((app_id, refresh_token), None)
            if grant is None:
                long_term = self._tokens.get(refresh_token)
                if long_term is not None and long_term.long_term:
                    return RefreshOutcome.LONG_TERM, {}
                return RefreshOutcome.INVALID_TOKEN, {}
            access_token = "act." + secrets.token_hex(20)
            rotated = "rft." + secrets.token_hex(20)
            self._tokens[access_token] = AccessToken(
                grant.advertiser_ids, grant.role, long_term=False
            )
            self._refresh_grants[(app_id, rotated)] = grant
        return RefreshOutcome.ISSUED, {
            "access_token": access_token,
            "access_token_expire_in": ACCESS_TOKEN_EXPIRE_IN,
            "refresh_token": rotated,
            "refresh_token_expire_in": REFRESH_TOKEN_EXPIRE_IN,
            "advertiser_ids": sorted(grant.advertiser_ids),
        }


def _first_positions(ids: list[str]) -> list[int]:
    first: dict[str, int] = {}
    for position, event_id in enumerate(ids):
        first.setdefault(event_id, position)
    return sorted(first.values())


def _seeded_access_token(seeded: SeedToken) -> AccessToken:
    return AccessToken(
        advertiser_ids=seeded.advertiser_ids,
        role=seeded.role,
        long_term=True,
        status=TokenStatus(seeded.status),
    )
