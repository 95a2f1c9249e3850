"""Event names: the destination's map from input names to TikTok's, the standard
names, and the warnings for names TikTok has renamed or is retiring.

TikTok renamed CompletePayment to Purchase and SubmitForm to Lead in May 2025 (the old
names still work: TikTok converts them on its side) and soft-deprecated PlaceAnOrder
and ClickButton (supported until their sunset in 2027). A row with one of these names
is sent as it is, with a warning whose code names the event to use instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from amp_destinations import RecordError, RecordWarning

from ._constants import STANDARD_EVENTS
from ._settings import standard_event_suggestion
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


@lru_cache(maxsize=256)
def _unknown_event(name: str) -> RecordError:
    """The rejection for a name that is not standard, with the closest standard name
    when there is one. Cached: a file with one misspelling has it on every row."""
    # Without separators, "add_to_cart" and "Complete Payment" are case slips too.
    squeezed = name.replace("_", "").replace(" ", "").replace("-", "")
    suggestion = standard_event_suggestion(squeezed) if squeezed else None
    message = "event is not a TikTok standard event name (names are case-sensitive)"
    if suggestion is not None:
        message += f"; did you mean {suggestion!r}?"
    else:
        message += "; the event_name_map setting can map it to one"
    return RecordError("event.unknown", "event", message)


def _outcome(name: str) -> tuple[str, RecordWarning | None]:
    return name, LEGACY_EVENTS.get(name)


class EventNames:
    """The event names of one destination's settings.

    ``known`` maps an input value, exactly as a row holds it, to ``(name, warning)``:
    the TikTok name to send and the legacy-name warning, or None. The hot path looks a
    row's value up there; ``resolve`` reads any other value and remembers it.
    """

    def __init__(self, fixed_event_name: str | None, event_name_map: Mapping[str, str] | None):
        self._fixed = _outcome(fixed_event_name) if fixed_event_name else None
        # Keys compared case-insensitively and without surrounding spaces; the schema
        # refuses two keys that this makes equal.
        self._map = {key.strip().casefold(): name for key, name in (event_name_map or {}).items()}
        self.known: dict[str, tuple[str, RecordWarning | None]] = {
            name: _outcome(self._map.get(name.casefold(), name)) for name in STANDARD_EVENTS
        }
        for key, name in (event_name_map or {}).items():
            self.known[key] = _outcome(name)

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
            return _unknown_event(text)
        outcome = _outcome(name)
        if value.__class__ is str and len(self.known) < _REMEMBERED:
            self.known[value] = outcome
        return outcome
