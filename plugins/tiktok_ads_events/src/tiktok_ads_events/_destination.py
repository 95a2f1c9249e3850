"""The TikTok Ads Events destination: connection test, auto tracking on save, batch
encoding and delivery. Rows become events in ``_prepare``; HTTP details live in
``_client``."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from operator import itemgetter
from typing import Any

import httpx
import orjson

from amp_destinations import (
    AmpDestError,
    Batch,
    BatchOutcome,
    Check,
    Choice,
    ConnectionStatus,
    Credential,
    Destination,
    FailureType,
    RecordWarning,
)

from ._choices import CHOOSABLE, list_choices
from ._client import (
    TRANSIENT_KINDS,
    Answer,
    Kind,
    TikTokClient,
    TokenError,
    event_rejections,
)
from ._constants import (
    DEFAULT_API_BASE_URL,
    MAX_EVENT_AGE_DAYS,
    MAX_EVENTS_PER_REQUEST,
    MAX_REQUEST_BYTES,
    NAME,
    OFFLINE_UPDATE_PATH,
    PARTNER_NAME,
    TITLE,
    TRACK_PATH,
)
from ._keys import key_columns
from ._prepare import FIELDS, FUTURE_SKEW_SECONDS, EventPreparer, fields_for
from ._problems import (
    ADVERTISER,
    API,
    AUTHORIZED,
    AUTO_TRACKING,
    NAME_MATCHES,
    TOKEN,
    Problem,
    Target,
    answer_problem,
    token_problem,
    transport_problem,
)
from ._settings import TikTokSettingsSchema
from ._sources import source_of

__all__ = ["TikTokAdsEvents"]


class TikTokAdsEvents(Destination):
    """Offline, web and CRM conversion events to the TikTok Events API (``/event/track/``)."""

    name = NAME
    title = TITLE
    credential_type = NAME
    settings_schema = TikTokSettingsSchema
    max_batch_size = MAX_EVENTS_PER_REQUEST
    max_batch_bytes = MAX_REQUEST_BYTES
    fields = FIELDS
    id_field = "event_id"
    identifiers = {
        "email": key_columns("email"),
        "phone": key_columns("phone"),
        "external_id": key_columns("external_id"),
        "ttclid or ttp": (("tiktok_click_id",), ("cookie_id",)),
        "ip with user agent": (("ip", "agent"),),
    }

    choosable = CHOOSABLE
    # TikTok counts an event again once its 48-hour deduplication has passed, for as
    # long as it accepts the event: 28 days after its event_time, which may be up to the
    # allowed skew after it was sent. (TikTok's limit, not max_event_age_days: a lower
    # setting only rejects older events here.)
    idempotency_window = MAX_EVENT_AGE_DAYS * 86400 + FUTURE_SKEW_SECONDS

    @classmethod
    def choices(
        cls,
        setting: str,
        credential: Credential | None,
        settings: Mapping[str, Any],
        session: httpx.Client,
    ) -> list[Choice]:
        """Advertisers the credential reaches, or the event sets of the advertiser in
        ``settings`` (offline or CRM event sets, or pixels); see ``_choices``."""
        return list_choices(setting, credential, settings, session)

    def __init__(self, settings: Mapping[str, Any], credential: Credential | None = None):
        super().__init__(settings, credential)
        # FIELDS and the columns event ids are derived from, which settings name: the
        # host reads the instance's fields. (mypy: the base declares a ClassVar.)
        self.fields = fields_for(self.settings)  # type: ignore[misc]
        self._advertiser_id = self.settings["advertiser_id"]
        self._event_set_id = self.settings["event_set_id"]
        self._source = source_of(self.settings)
        self._base_url = self.settings.get("api_base_url") or DEFAULT_API_BASE_URL
        self._client = TikTokClient(self._base_url, credential) if credential is not None else None
        self._target = Target(
            self._base_url,
            credential.name if credential is not None else "",
            self._advertiser_id,
            self._source.found_check,
            self._source.hint,
        )
        self._body_head = (
            b'{"event_source":' + orjson.dumps(self._source.name) + b',"event_source_id":'
        )
        self._mark_test_events(self.settings.get("test_event_code"))

    def _mark_test_events(self, test_event_code: str | None) -> None:
        self._body_middle = (
            b',"partner_name":'
            + orjson.dumps(PARTNER_NAME)
            + (b',"test_event_code":' + orjson.dumps(test_event_code) if test_event_code else b"")
            + b',"data":['
        )

    def start_test_events(self, test_event_code: str | None) -> None:
        """A validation run's sample goes to TikTok as test events: Events Manager shows
        them under Test Events and keeps them out of reporting and optimisation."""
        code = test_event_code or self.settings.get("test_event_code")
        if not code:
            raise AmpDestError(
                "validating sends the sample as test events, which need a test event code: "
                "copy it from TikTok Events Manager (your event set, Test Events tab) and "
                "give it with --test-event-code CODE (test_event_code= in Python) or set the "
                "destination's "
                "test_event_code"
            )
        if len(code) > 64 or not code.isprintable() or code != code.strip():
            raise AmpDestError(
                "the test event code is at most 64 printable characters with no spaces "
                "around them: copy it again from Events Manager's Test Events tab"
            )
        self._mark_test_events(code)

    # -- preparing and encoding -------------------------------------------------------

    def required_columns(self) -> list[tuple[str, ...]]:
        """The columns without which prepare rejects every row: the event (unless the
        destination names a fixed one), its id and time, and email, the audience key
        (the one identifier TikTok events must carry here; phone and external_id only
        add to it). With event_id_columns, event_id or every column it is derived from.
        CRM events also need lead_id."""
        derived = self.settings.get("event_id_columns") or ()
        event_id: list[tuple[str, ...]] = [("event_id", column) for column in derived]
        required = (event_id or [("event_id",)]) + [("timestamp",), ("email",)]
        if self._source.lead:
            required.append(("lead_id",))
        if not self.settings.get("fixed_event_name"):
            required.insert(0, ("event",))
        return required

    def start_run(self, columns: Sequence[str] | None) -> None:
        preparer = EventPreparer(self.settings)
        preparer.start(columns)
        # The hot path calls the preparer's bound method directly, not through us: the
        # instance attribute shadows the method below, on purpose.
        self.prepare = preparer.prepare  # type: ignore[method-assign]

    def prepare(self, values: tuple[Any, ...], warnings: list[RecordWarning]) -> Any:
        self.start_run(None)
        return self.prepare(values, warnings)

    # An item is (event_source_id, event): a batch carries one event set. A C getter
    # rather than a method, because the host calls it for every row. (mypy cannot see
    # that an itemgetter, which does not bind, takes the method's place exactly.)
    batch_key = itemgetter(0)  # type: ignore[assignment]

    def encode_item(self, item: tuple[str, dict]) -> bytes:
        return orjson.dumps(item[1])

    def idempotency_key(self, item: tuple[str, dict]) -> tuple[str, str, str]:
        """What TikTok deduplicates on: the event set (or pixel), the event, event_id."""
        event = item[1]
        return item[0], event["event"], event["event_id"]

    def batch_frame(self, key: Hashable) -> tuple[bytes, bytes, bytes]:
        return self._body_head + orjson.dumps(key) + self._body_middle, b",", b"]}"

    # -- connection test ----------------------------------------------------------------

    def test_connection(self, session: httpx.Client) -> ConnectionStatus:
        authorized = self._authorized_check()
        if authorized is None:
            return self._remote_checks(session)
        if not authorized.ok:
            return ConnectionStatus([authorized])
        return ConnectionStatus([authorized, *self._remote_checks(session).checks])

    def _authorized_check(self) -> Check | None:
        """Whether the credential's authorization named the advertiser (None when the
        credential was not authorized here, so nothing is known): a local check that
        says more than TikTok's 40300 would."""
        granted = self.credential.facts.get("advertiser_ids") if self.credential else None
        if not isinstance(granted, list):
            return None
        name = self._target.credential_name
        if self._advertiser_id in granted:
            return Check.passed(
                AUTHORIZED, f"credential {name} was authorized for advertiser {self._advertiser_id}"
            )
        reach = ", ".join(map(str, granted)) or "none"
        return Check.failed(
            AUTHORIZED,
            f"credential {name} was not authorized for advertiser {self._advertiser_id} "
            f"(it may act for {reach})",
            "set advertiser_id to one it may act for (its listed choices), or re-authorize "
            f"the credential with an account that can reach advertiser {self._advertiser_id}.",
            FailureType.CONFIG,
        )

    def _remote_checks(self, session: httpx.Client) -> ConnectionStatus:
        try:
            answer = self._lookup(session)
        except TokenError as exc:
            return ConnectionStatus(self._checks_until(token_problem(exc)))
        except httpx.HTTPError as exc:
            return ConnectionStatus(self._checks_until(transport_problem(exc, self._base_url)))
        if answer.kind is not Kind.OK:
            return ConnectionStatus(self._checks_until(answer_problem(answer, self._target)))
        checks = self._checks_before(self._target.found_check)
        entry = self._find_entry(answer)
        if isinstance(entry, Problem):
            return ConnectionStatus(checks + [self._failed(entry)])
        checks.append(Check.passed(self._target.found_check, self._found_message(entry)))
        expected_name = self.settings.get("event_set_name")
        if expected_name:
            actual_name = entry.get(self._source.name_key)
            if not isinstance(actual_name, str) or actual_name.strip() != expected_name:
                checks.append(
                    Check.failed(
                        NAME_MATCHES,
                        f"{self._source.what} {self._event_set_id} is named "
                        f"{actual_name!r} in TikTok, not {expected_name!r}",
                        "correct event_set_name, or event_set_id if it points at the wrong set.",
                        FailureType.CONFIG,
                    )
                )
                return ConnectionStatus(checks)
            checks.append(Check.passed(NAME_MATCHES, f"named {actual_name!r}"))
        if self._source.auto_tracking:
            checks.append(self._auto_tracking_check(entry))
        return ConnectionStatus(checks)

    def _lookup(self, session: httpx.Client) -> Answer:
        """Read the event set (offline, CRM) or the pixel (web): read-only."""
        source = self._source
        params = source.lookup_params(self._advertiser_id, self._event_set_id)
        return self._require_client().call(session, "GET", source.list_path, params=params)

    def _find_entry(self, answer: Answer) -> dict[str, Any] | Problem:
        """The event set's (or pixel's) entry in the lookup's answer, or why not."""
        list_key, id_key = self._source.list_key, self._source.id_key
        entries = answer.data.get(list_key, [])
        if not isinstance(entries, list):
            return Problem(
                self._target.found_check,
                f"TikTok's answer has no readable {list_key}: {answer.describe()}",
                "report it with the request id; nothing was changed.",
                FailureType.SYSTEM,
            )
        for entry in entries:
            if isinstance(entry, dict) and str(entry.get(id_key)) == self._event_set_id:
                return entry
        return Problem(
            self._target.found_check,
            f"advertiser {self._advertiser_id} has no {self._source.what} {self._event_set_id}",
            self._source.hint + f", and that it belongs to advertiser {self._advertiser_id}.",
            FailureType.CONFIG,
        )

    def _found_message(self, entry: Mapping[str, Any]) -> str:
        name = entry.get(self._source.name_key)
        named = f" ({name!r})" if name else ""
        return f"{self._source.what} {self._event_set_id}{named} found"

    def _auto_tracking_check(self, entry: Mapping[str, Any]) -> Check:
        wanted = bool(self.settings.get("auto_tracking"))
        actual = entry.get("auto_tracking")
        if not isinstance(actual, bool):
            return Check.passed(
                AUTO_TRACKING,
                "TikTok did not report the event set's auto "
                "tracking; saving the destination applies it",
            )
        if actual == wanted:
            return Check.passed(AUTO_TRACKING, f"auto tracking is {_on_off(actual)}, as set")
        # Saving applies the setting (on_save), so a difference is news, not a failure.
        return Check.passed(
            AUTO_TRACKING,
            f"auto tracking is {_on_off(actual)} on the event set in TikTok but "
            f"{_on_off(wanted)} in the settings; saving the destination turns it "
            f"{_on_off(wanted)}",
        )

    def _checks_before(self, failing: str) -> list[Check]:
        passed = {
            API: f"{self._base_url} answered",
            TOKEN: "TikTok accepted the "
            + (
                "access token exchanged from the refresh token"
                if self._require_client().tokens.can_refresh
                else "token"
            ),
            ADVERTISER: f"advertiser {self._advertiser_id} is reachable with this credential",
        }
        checks = []
        for name, message in passed.items():
            if name == failing:
                break
            checks.append(Check.passed(name, message))
        return checks

    def _checks_until(self, problem: Problem) -> list[Check]:
        return self._checks_before(problem.check) + [self._failed(problem)]

    @staticmethod
    def _failed(problem: Problem) -> Check:
        return Check.failed(problem.check, problem.message, problem.hint, problem.failure)

    def _require_client(self) -> TikTokClient:
        if self._client is None:
            raise AmpDestError(
                f"destination {NAME} needs a credential of type {NAME}; add one with "
                f"`amp-dest credentials add NAME --type {NAME}`."
            )
        return self._client

    # -- saving -------------------------------------------------------------------------

    def on_save(self, session: httpx.Client, previous: Mapping[str, Any] | None) -> list[str]:
        """Offline: make the event set's auto tracking match the setting."""
        if not self._source.auto_tracking:
            return []
        wanted = bool(self.settings.get("auto_tracking"))
        event_set = self._event_set_id
        failed = f"auto tracking could not be set for event set {event_set}"
        try:
            answer = self._lookup(session)
            if answer.kind is not Kind.OK:
                raise AmpDestError(f"{failed}: {answer_problem(answer, self._target).one_line()}")
            entry = self._find_entry(answer)
            if isinstance(entry, Problem):
                raise AmpDestError(f"{failed}: {entry.one_line()}")
            if entry.get("auto_tracking") is wanted:
                return []
            answer = self._require_client().call(
                session,
                "POST",
                OFFLINE_UPDATE_PATH,
                json={
                    "advertiser_id": self._advertiser_id,
                    "event_set_id": event_set,
                    "auto_tracking": wanted,
                },
            )
        except TokenError as exc:
            raise AmpDestError(f"{failed}: {token_problem(exc).one_line()}") from None
        except httpx.HTTPError as exc:
            raise AmpDestError(
                f"{failed}: {transport_problem(exc, self._base_url).one_line()}"
            ) from None
        if answer.kind is not Kind.OK:
            raise AmpDestError(f"{failed}: {answer_problem(answer, self._target).one_line()}")
        return [f"auto tracking turned {_on_off(wanted)} for event set {event_set}"]

    # -- delivering ---------------------------------------------------------------------

    def deliver(self, batch: Batch, session: httpx.Client) -> BatchOutcome:
        client = self._require_client()
        try:
            answer = client.call(session, "POST", TRACK_PATH, content=batch.body)
        except TokenError as exc:
            if exc.failure is FailureType.TRANSIENT:
                return BatchOutcome.retry(str(exc), exc.retry_after, exc.throttled)
            return BatchOutcome.fatal(f"{exc}: {exc.hint}", exc.failure)
        except httpx.TimeoutException:
            return BatchOutcome.retry(
                "TikTok did not answer in time; sending again is safe because TikTok "
                "deduplicates events on event_id"
            )
        except httpx.TransportError as exc:
            return BatchOutcome.retry(f"could not reach {self._base_url} ({type(exc).__name__})")
        except httpx.HTTPError as exc:
            problem = transport_problem(exc, self._base_url)
            return BatchOutcome.fatal(problem.one_line(), problem.failure)
        return self._outcome(answer, batch)

    def _outcome(self, answer: Answer, batch: Batch) -> BatchOutcome:
        kind = answer.kind
        if kind is Kind.OK:
            return BatchOutcome.delivered()
        if kind is Kind.DUPLICATE:
            return BatchOutcome.delivered(
                note=f"TikTok had already received this request: {answer.describe()}"
            )
        if kind is Kind.PARTIAL:
            note = f"TikTok accepted the request in part: {answer.describe()}"
            rejections = event_rejections(answer, len(batch), self._require_client().tokens.redact)
            if rejections:
                return BatchOutcome.rejected_items(rejections, note=note)
            return BatchOutcome.delivered(note=note)
        if kind is Kind.INVALID_PARAMETER:
            return BatchOutcome.rejected(
                "tiktok.invalid_parameter", f"TikTok refused the events: {answer.describe()}"
            )
        if kind is Kind.RATE_LIMITED:
            return BatchOutcome.retry(
                f"TikTok is rate-limiting this app: {answer.describe()}",
                answer.retry_after,
                throttled=True,
            )
        if kind in TRANSIENT_KINDS:
            return BatchOutcome.retry(
                f"TikTok is busy or down: {answer.describe()}", answer.retry_after
            )
        problem = answer_problem(answer, self._target)
        return BatchOutcome.fatal(problem.one_line(), problem.failure)


def _on_off(flag: bool) -> str:
    return "on" if flag else "off"
