"""Match keys: a row's emails, phones and external ids, hashed into TikTok's ``user``.

TikTok takes one hashed value or a list of them per key. A row gives several in either
of two ways, which add up: a list value (JSON Lines, Parquet, Python) in ``email``,
``phone`` or ``external_id``, and the numbered columns ``email_2`` to ``email_5`` (and
``phone_2``..., ``external_id_2``...) of a CSV. Values are hashed one by one; equal
hashes are sent once, in the order the row gives them; one hash is sent as a string,
more as a list.

Email is the audience key: a row needs one usable email. Several emails of which some
are not addresses send the others with a warning; phones and external ids are optional
and an unusable one is dropped with a warning.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from amp_destinations import InputError, RecordError, RecordWarning

from ._hashing import hash_email, hash_external_id
from ._phones import PhoneHasher
from ._values import text_of

__all__ = [
    "EMAIL_INVALID",
    "EMAIL_MISSING",
    "EMAIL_PARTLY_INVALID",
    "MATCH_KEY_COLUMNS",
    "MAX_VALUES_PER_KEY",
    "MatchKeys",
    "all_missing",
    "key_columns",
]

# Values per key a CSV can give: the column and its numbered twins up to _5.
MAX_VALUES_PER_KEY = 5
_KEYS = ("email", "phone", "external_id")


def _numbered(column: str) -> tuple[str, ...]:
    return tuple(f"{column}_{number}" for number in range(2, MAX_VALUES_PER_KEY + 1))


MATCH_KEY_COLUMNS = tuple(column for key in _KEYS for column in _numbered(key))


def key_columns(key: str) -> tuple[tuple[str], ...]:
    """The columns a match key may come from, as identifier alternatives for the run
    summary: the key's own column and its numbered twins."""
    return tuple((column,) for column in (key, *_numbered(key)))


_NUMBERED_BEYOND = tuple(f"{key}_{MAX_VALUES_PER_KEY + 1}" for key in _KEYS)

EMAIL_MISSING = RecordError(
    "email.missing", "email", "email is required: it is the audience key TikTok matches on"
)
EMAIL_INVALID = RecordError(
    "email.invalid",
    "email",
    "email is neither an email address (one @, a dotted domain, no spaces or control "
    "characters) nor a SHA-256 hex digest",
)
EMAIL_PARTLY_INVALID = RecordWarning(
    "email.partly_invalid",
    "email",
    "one of the row's emails is neither an address nor a SHA-256 hex digest; it was "
    "dropped and the others were sent",
)
_EXTERNAL_ID_INVALID = RecordWarning(
    "external_id.invalid",
    "external_id",
    "external_id must be text or a number, not a list, object or boolean; dropped",
)


# Picks the values of a key's numbered columns out of a row, as a tuple.
Extras = Callable[[tuple], tuple]


def _picker(positions: Sequence[int]) -> Extras | None:
    """None when the input has no numbered column for the key."""
    if not positions:
        return None
    if len(positions) == 1:
        position = positions[0]
        return lambda values: (values[position],)
    return itemgetter(*positions)


def all_missing(extras: tuple) -> bool:
    """Whether numbered columns' values are all missing (None or ""); a 0 or a False is
    not missing, so they take the slow path, which reads or refuses them."""
    return extras.count(None) + extras.count("") == len(extras)


def _texts(first: Any, extras: tuple) -> tuple[list[str], bool]:
    """The trimmed texts of a key's values, in order (a list's items one by one, then the
    numbered columns), and whether any value had no text form."""
    texts: list[str] = []
    unusable = False
    for value in (first, *extras):
        for item in value if isinstance(value, (list, tuple)) else (value,):
            try:
                text = text_of(item)
            except ValueError:
                unusable = True
                continue
            if text:
                texts.append(text)
    return texts, unusable


def _one_or_many(digests: list[str]) -> str | list[str]:
    return digests[0] if len(digests) == 1 else digests


class MatchKeys:
    """Reads match keys for one destination; ``start`` compiles it for a run's columns."""

    def __init__(self, phones: PhoneHasher, phone_invalid: RecordWarning):
        self._phones = phones
        self._phone_invalid = phone_invalid
        # Each None when the input has no numbered column for the key.
        self.extra_emails: Extras | None = None
        self._extra_phones: Extras | None = None
        self._extra_external_ids: Extras | None = None

    def start(self, position: Mapping[str, int], present: Iterable[str] | None) -> None:
        """Compile for the input's columns (None: every column may appear)."""
        columns = None if present is None else frozenset(present)
        if columns is not None:
            beyond = sorted(columns.intersection(_NUMBERED_BEYOND))
            if beyond:
                raise InputError(
                    f"the input has a column {beyond[0]}, but at most "
                    f"{MAX_VALUES_PER_KEY} values per match key are read from columns "
                    f"(up to {beyond[0].rpartition('_')[0]}_{MAX_VALUES_PER_KEY}): "
                    "give more as a list in one column (JSON Lines, Parquet), or drop them"
                )

        def extra(key: str) -> Extras | None:
            return _picker(
                [
                    position[column]
                    for column in _numbered(key)
                    if columns is None or column in columns
                ]
            )

        self.extra_emails = extra("email")
        self._extra_phones = extra("phone")
        self._extra_external_ids = extra("external_id")

    def emails(self, email: Any, extras: tuple) -> tuple[str | list[str], bool] | RecordError:
        """The user's email hash(es) and whether some email was dropped, or the
        rejection, for the ``email`` value and those of its numbered columns. The slow
        path: a list, a native value, or numbered columns."""
        texts, unusable = _texts(email, extras)
        if not texts:
            return EMAIL_INVALID if unusable else EMAIL_MISSING
        digests: list[str] = []
        for text in texts:
            digest = hash_email(text)
            if digest is None:
                unusable = True
            elif digest not in digests:
                digests.append(digest)
        if not digests:
            return EMAIL_INVALID
        return _one_or_many(digests), unusable

    def read_optional(
        self, phone: Any, external_id: Any, values: tuple, user: dict, warnings: list
    ) -> None:
        """Phones and external ids into ``user``; unusable ones dropped with a warning."""
        # Most rows: one text value and no numbered column, or only empty ones.
        extras = () if self._extra_phones is None else self._extra_phones(values)
        if phone.__class__ is str and (not extras or all_missing(extras)):
            if phone:
                phone = phone.strip()
                if phone:
                    digest = self._phones.hash(phone)
                    if digest is None:
                        warnings.append(self._phone_invalid)
                    else:
                        user["phone"] = digest
        elif phone is not None or not all_missing(extras):
            self._phones_of(phone, extras, user, warnings)
        extras = () if self._extra_external_ids is None else self._extra_external_ids(values)
        if external_id.__class__ is str and (not extras or all_missing(extras)):
            if external_id:
                external_id = external_id.strip()
                if external_id:
                    user["external_id"] = hash_external_id(external_id)
        elif external_id is not None or not all_missing(extras):
            self._external_ids_of(external_id, extras, user, warnings)

    def _phones_of(self, phone: Any, extras: tuple, user: dict, warnings: list) -> None:
        texts, unusable = _texts(phone, extras)
        digests: list[str] = []
        for text in texts:
            digest = self._phones.hash(text)
            if digest is None:
                unusable = True
            elif digest not in digests:
                digests.append(digest)
        if unusable:
            warnings.append(self._phone_invalid)
        if digests:
            user["phone"] = _one_or_many(digests)

    def _external_ids_of(self, external_id: Any, extras: tuple, user: dict, warnings: list) -> None:
        texts, unusable = _texts(external_id, extras)
        if unusable:
            warnings.append(_EXTERNAL_ID_INVALID)
        digests: list[str] = []
        for text in texts:
            digest = hash_external_id(text)
            if digest not in digests:
                digests.append(digest)
        if digests:
            user["external_id"] = _one_or_many(digests)
