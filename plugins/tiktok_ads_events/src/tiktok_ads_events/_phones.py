"""Phone numbers to the SHA-256 of their E.164 form ("+" and the digits).

Most exports already hold E.164 numbers: those are recognised by a pattern and hashed
without touching ``phonenumbers``, which costs some 15 microseconds a number. A number
written without "+" is a guess (read in the destination's default region), so it must
be *valid* there, or valid as an international number once a "+" is put in front
(``447911123456`` is +44 7911 123456); a number that cannot exist (``1234567890`` in
the US: no area code starts with 1) is dropped. Only national formats go through the
library, except the common case of a ten-digit national number in a region of the
North American Numbering Plan, which a pattern and phonenumbers' own validity patterns
settle, with the library's answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from hashlib import sha256

import phonenumbers

from ._hashing import is_sha256_hex

__all__ = ["PhoneHasher"]

_is_e164 = re.compile(r"\+[1-9][0-9]{6,14}").fullmatch
# A NANP number: area code and exchange each start with 2-9, after an optional trunk
# prefix 1. phonenumbers reads these as +1 and the ten digits in every NANP region (ten
# digits is always a possible length there), so the pattern gives its reading without
# the cost; whether the number is valid is then asked of ``_valid_nanp``. [0-9], not
# \d: the library turns other scripts' digits into ASCII ones.
_nanp_national = re.compile(r"1?([2-9][0-9]{2}[2-9][0-9]{6})").fullmatch
# Separators, and the invisible characters a copy from a web page or a spreadsheet
# leaves behind (zero-width space and joiners, word joiner, byte order mark).
_SEPARATORS = str.maketrans("", "", " \t\u00a0-.()/\u200b\u200c\u200d\u2060\ufeff")
# "+44 (0)20 7946 0018": the trunk 0 that is not dialled from abroad.
_TRUNK_ZERO = "(0)"
_E164 = phonenumbers.PhoneNumberFormat.E164
_is_valid = phonenumbers.is_valid_number
# The kinds of number phonenumbers' validity check tries, in its order
# (phonenumberutil._number_type_helper); mobile comes last and only when its pattern
# differs from the fixed-line one.
_NUMBER_KINDS = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
)


def _kind_pattern(metadata, length: int) -> Callable[[str], object] | None:
    """A fullmatch for national numbers of ``length`` digits that phonenumbers counts as
    valid in this region's metadata (it matches the general pattern and that of one kind
    of number), or None when no number of that length is valid there."""

    def usable(desc) -> bool:
        return (
            desc is not None
            and bool(desc.national_number_pattern)
            and (not desc.possible_length or length in desc.possible_length)
        )

    general = metadata.general_desc
    if not usable(general):
        return None
    descs = [getattr(metadata, kind) for kind in _NUMBER_KINDS]
    if not metadata.same_mobile_and_fixed_line_pattern:
        descs.append(metadata.mobile)
    kinds = [desc.national_number_pattern for desc in descs if usable(desc)]
    if not kinds:
        return None
    general_match = re.compile(general.national_number_pattern).fullmatch
    kind_match = re.compile("|".join(f"(?:{pattern})" for pattern in kinds)).fullmatch
    return lambda digits: general_match(digits) and kind_match(digits)


def _nanp_validator() -> Callable[[str], bool]:
    """``phonenumbers.is_valid_number`` for +1 and ten national digits, without a parse.

    It mirrors the library: the regions sharing +1 are tried in its order; one with
    leading digits (an area code) claims the numbers they start, valid or not, and one
    without claims the numbers valid in it. tests/test_prepare_speedups.py checks that
    it agrees with the library."""
    regions = []
    for region in phonenumbers.region_codes_for_country_code(1):
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        if metadata is None:  # as the library does
            continue
        leading = re.compile(metadata.leading_digits).match if metadata.leading_digits else None
        regions.append((leading, _kind_pattern(metadata, 10)))

    def valid(digits: str) -> bool:
        for leading, kind in regions:
            if leading is not None:
                if leading(digits):
                    return kind is not None and bool(kind(digits))
            elif kind is not None and kind(digits):
                return True
        return False

    return valid


_valid_nanp = _nanp_validator()


class PhoneHasher:
    """Hash phone numbers, reading those without a "+" in ``default_region``."""

    __slots__ = ("default_region", "_in_nanp")

    def __init__(self, default_region: str):
        self.default_region = default_region.upper()
        self._in_nanp = phonenumbers.country_code_for_region(self.default_region) == 1

    def hash(self, text: str) -> str | None:
        """The hash of a trimmed phone number, or None when it is not one."""
        if _is_e164(text) is None:
            if len(text) == 64:
                digest = text.lower()
                return digest if is_sha256_hex(digest) else None
            if _TRUNK_ZERO in text:
                text = text.replace(_TRUNK_ZERO, "")
            text = text.translate(_SEPARATORS)
            if _is_e164(text) is None:
                e164 = self.to_e164(text)
                if e164 is None:
                    return None
                text = e164
        return sha256(text.encode()).hexdigest()

    def to_e164(self, text: str) -> str | None:
        """E.164 for a number in any format, or None; what ``parse_to_e164`` gives,
        faster for national numbers of the North American Numbering Plan."""
        if self._in_nanp:
            match = _nanp_national(text)
            if match is not None and _valid_nanp(match[1]):
                return "+1" + match[1]
        return self.parse_to_e164(text)

    def parse_to_e164(self, text: str) -> str | None:
        """E.164 through ``phonenumbers`` alone, or None.

        The number must be *valid*: read in the default region, or, when it was written
        without "+" and is not valid there, read as an international number. Validity
        rests on number-range metadata that can lag behind a brand-new range, but a
        number read in the wrong region would be hashed wrongly, and one that cannot
        exist matches no one. Local-only numbers (a US number without its area code)
        are refused: their E.164 form would be wrong.
        """
        number = _parse(text, self.default_region)
        if number is None or not _is_valid(number):
            if text.startswith("+"):
                return None
            number = _parse("+" + text, None)
            if number is None or not _is_valid(number):
                return None
        return phonenumbers.format_number(number, _E164)


def _parse(text: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
