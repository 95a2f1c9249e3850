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

from collections.abc import Iterable, Mapping, Sequence
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


def _texts(first: Any, values: tuple, positions: Sequence[int]) -> tuple[list[str], bool]:
    """The trimmed texts of a key's values, in order (a list's items one by one, then the
    numbered columns), and whether any value had no text form."""
    texts: list[str] = []
    unusable = False
    for value in (first, *[values[position] for position in positions]):
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
        self.extra_emails: tuple[int, ...] = ()
        self._extra_phones: tuple[int, ...] = ()
        self._extra_external_ids: tuple[int, ...] = ()

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

        def extra(key: str) -> tuple[int, ...]:
            return tuple(
                position[column]
                for column in _numbered(key)
                if columns is None or column in columns
            )

        self.extra_emails = extra("email")
        self._extra_phones = extra("phone")
        self._extra_external_ids = extra("external_id")

    def emails(self, email: Any, values: tuple) -> tuple[str | list[str], bool] | RecordError:
        """The user's email hash(es) and whether some email was dropped, or the
        rejection. The slow path: a list, a native value, or numbered columns."""
        texts, unusable = _texts(email, values, self.extra_emails)
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
        if phone.__class__ is str and not self._extra_phones:
            if phone:
                phone = phone.strip()
                if phone:
                    digest = self._phones.hash(phone)
                    if digest is None:
                        warnings.append(self._phone_invalid)
                    else:
                        user["phone"] = digest
        elif phone is not None or self._extra_phones:
            self._phones_of(phone, values, user, warnings)
        if external_id.__class__ is str and not self._extra_external_ids:
            if external_id:
                external_id = external_id.strip()
                if external_id:
                    user["external_id"] = hash_external_id(external_id)
        elif external_id is not None or self._extra_external_ids:
            self._external_ids_of(external_id, values, user, warnings)

    def _phones_of(self, phone: Any, values: tuple, user: dict, warnings: list) -> None:
        texts, unusable = _texts(phone, values, self._extra_phones)
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

    def _external_ids_of(self, external_id: Any, values: tuple, user: dict, warnings: list) -> None:
        texts, unusable = _texts(external_id, values, self._extra_external_ids)
        if unusable:
            warnings.append(_EXTERNAL_ID_INVALID)
        digests: list[str] = []
        for text in texts:
            digest = hash_external_id(text)
            if digest not in digests:
                digests.append(digest)
        if digests:
            user["external_id"] = _one_or_many(digests)
