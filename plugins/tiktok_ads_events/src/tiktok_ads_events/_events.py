"""Event names: the destination's map from input names to TikTok's, the standard
names, and the warnings for names TikTok has renamed or is retiring.

TikTok renamed CompletePayment to Purchase and SubmitForm to Lead in May 2025 (the old
names still work: TikTok converts them on its side) and soft-deprecated PlaceAnOrder
and ClickButton (supported until their sunset in 2027). A row with one of these names
is sent as it is, with a warning whose code names the event to use instead.

CRM events may also carry custom names (any other name of a sane length); one that
differs from a standard name only in case or separators is sent as given, with a warning
naming the standard one, since it is almost always a slip.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from amp_destinations import RecordError, RecordWarning

from ._constants import STANDARD_EVENTS
from ._settings import CUSTOM_EVENT_NAME_RULE, is_custom_event_name, standard_event_suggestion
from ._values import text_of

__all__ = ["LEGACY_EVENTS", "EventNames"]

# How many distinct input names a run remembers the outcome of; beyond it (a column
# of free text mapped by mistake) names are looked up afresh, and memory stays flat.
_REMEMBERED = 4096

LEGACY_EVENTS = {
    "CompletePayment": RecordWarning(
        "event.renamed_to_purchase",
        "event",
        "TikTok renamed this event to Purchase; it is sent as it is and TikTok counts it "
        "as Purchase. Send Purchase, or map the name with the event_name_map setting",
    ),
    "SubmitForm": RecordWarning(
        "event.renamed_to_lead",
        "event",
        "TikTok renamed this event to Lead; it is sent as it is and TikTok counts it as "
        "Lead. Send Lead, or map the name with the event_name_map setting",
    ),
    "PlaceAnOrder": RecordWarning(
        "event.retiring_use_purchase",
        "event",
        "TikTok is retiring this event (sunset announced for 2027) and advises Purchase "
        "instead; it is still sent. Map the name with the event_name_map setting",
    ),
    "ClickButton": RecordWarning(
        "event.retiring_use_lead",
        "event",
        "TikTok is retiring this event (sunset announced for 2027) and advises a more "
        "specific event such as Lead; it is still sent. Map the name with the "
        "event_name_map setting",
    ),
}

_EVENT_MISSING = RecordError(
    "event.missing",
    "event",
    "event is required: give the row an event, or set the destination's fixed event name",
)


_CUSTOM_EVENT_INVALID = RecordError(
    "event.invalid",
    "event",
    f"event must be a standard or custom event name: {CUSTOM_EVENT_NAME_RULE}",
)


def _squeezed(name: str) -> str:
    # Without separators, "add_to_cart" and "Complete Payment" are case slips too.
    return name.replace("_", "").replace(" ", "").replace("-", "")


@lru_cache(maxsize=256)
def _unknown_event(name: str) -> RecordError:
    """The rejection for a name that is not standard, with the closest standard name
    when there is one. Cached: a file with one misspelling has it on every row."""
    squeezed = _squeezed(name)
    suggestion = standard_event_suggestion(squeezed) if squeezed else None
    message = "event is not a TikTok standard event name (names are case-sensitive)"
    if suggestion is not None:
        message += f"; did you mean {suggestion!r}?"
    else:
        message += "; the event_name_map setting can map it to one"
    return RecordError("event.unknown", "event", message)


def _outcome(name: str) -> tuple[str, RecordWarning | None]:
    return name, LEGACY_EVENTS.get(name)


_STANDARD_BY_FOLDED = {name.casefold(): name for name in STANDARD_EVENTS}


def _custom_outcome(name: str) -> tuple[str, RecordWarning | None]:
    """A custom name, with a warning when it is a standard name but for case or separators."""
    standard = _STANDARD_BY_FOLDED.get(_squeezed(name).casefold())
    if standard is None:
        return name, None
    return name, RecordWarning(
        "event.custom_looks_standard",
        "event",
        f"event is sent as a custom event, yet it is the standard event {standard} but for "
        "case or separators: if that was meant, correct the name or map it with the "
        "event_name_map setting",
    )


class EventNames:
    """The event names of one destination's settings.

    ``known`` maps an input value, exactly as a row holds it, to ``(name, warning)``:
    the TikTok name to send and the legacy-name warning, or None. The hot path looks a
    row's value up there; ``resolve`` reads any other value and remembers it. With
    ``custom`` (CRM events) a name that is not standard is sent as a custom event.
    """

    def __init__(
        self,
        fixed_event_name: str | None,
        event_name_map: Mapping[str, str] | None,
        *,
        custom: bool = False,
    ):
        self._custom = custom
        self._fixed = self._outcome(fixed_event_name) if fixed_event_name else None
        # Keys compared case-insensitively and without surrounding spaces; the schema
        # refuses two keys that this makes equal.
        self._map = {key.strip().casefold(): name for key, name in (event_name_map or {}).items()}
        self.known: dict[str, tuple[str, RecordWarning | None]] = {
            name: self._outcome(self._map.get(name.casefold(), name)) for name in STANDARD_EVENTS
        }
        for key, name in (event_name_map or {}).items():
            self.known[key] = self._outcome(name)

    def _outcome(self, name: str) -> tuple[str, RecordWarning | None]:
        if self._custom and name not in STANDARD_EVENTS:
            return _custom_outcome(name)
        return _outcome(name)

    def resolve(self, value: Any) -> tuple[str, RecordWarning | None] | RecordError:
        """``(name, warning)`` for a row's event value, or the RecordError for it."""
        try:
            text = text_of(value)
        except ValueError:
            return _unknown_event("")
        if not text:
            return self._fixed or _EVENT_MISSING
        name = self._map.get(text.casefold(), text)
        if name not in STANDARD_EVENTS:
            if not self._custom:
                return _unknown_event(text)
            if not is_custom_event_name(name):
                return _CUSTOM_EVENT_INVALID
        outcome = self._outcome(name)
        if value.__class__ is str and len(self.known) < _REMEMBERED:
            self.known[value] = outcome
        return outcome
