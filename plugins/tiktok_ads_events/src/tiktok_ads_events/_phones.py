"""Phone numbers to the SHA-256 of their E.164 form ("+" and the digits).

Most exports already hold E.164 numbers: those are recognised by a pattern and hashed
without touching ``phonenumbers``, which costs some 15 microseconds a number. A number
written without "+" is a guess (read in the destination's default region), so it must
be *valid* there, or valid as an international number once a "+" is put in front
(``447911123456`` is +44 7911 123456); a number that cannot exist (``1234567890`` in
the US: no area code starts with 1) is dropped. Only national formats go through the
library, except two cases that a pattern and phonenumbers' own validity patterns
settle, with the library's answer: a ten-digit national number in a region of the
North American Numbering Plan, and the reading of digits as an international number.
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


class _Validity:
    """``phonenumbers.is_valid_number`` for one country code and a national significant
    number, without a parse, compiled per number length on first use.

    It mirrors the library (phonenumberutil.region_code_for_number): a country code of
    one region validates against it; of several, they are tried in the library's order,
    and one with leading digits claims the numbers they start, valid or not, while one
    without claims the numbers valid in it. A run of regions with leading digits is one
    regex, whose first alternative to match names the region, as trying them one by
    one would. tests/test_prepare_speedups.py compares it with the library."""

    def __init__(self, country_code: int):
        regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE[country_code]
        self._metadata = [
            metadata
            for metadata in map(phonenumbers.PhoneMetadata.metadata_for_region, regions)
            if metadata is not None  # as the library skips it
        ]
        self._by_length: dict[int, list] = {}
        # The main region's national prefix, which a parse strips after the country code.
        main = phonenumbers.PhoneMetadata.metadata_for_region(regions[0])
        prefix = main.national_prefix_for_parsing if main is not None else None
        self.geographic = main is not None
        self.national_prefix = re.compile(prefix).match if prefix else None

    def _steps(self, length: int) -> list:
        """``(claim, kinds)`` pairs in region order: ``claim`` None for a region without
        leading digits (``kinds`` is then its validity check), else a match whose
        ``lastgroup`` keys ``kinds``, the checks of a run of regions with them."""
        if len(self._metadata) == 1:  # the library does not look at leading digits then
            return [(None, _kind_pattern(self._metadata[0], length))]
        steps: list = []
        run: list = []

        def close_run() -> None:
            if run:
                alternatives = "|".join(
                    f"(?P<r{n}>{leading})" for n, (leading, _) in enumerate(run)
                )
                kinds = {f"r{n}": kind for n, (_, kind) in enumerate(run)}
                steps.append((re.compile(alternatives).match, kinds))
                run.clear()

        for metadata in self._metadata:
            kind = _kind_pattern(metadata, length)
            if metadata.leading_digits:
                run.append((metadata.leading_digits, kind))
            else:
                close_run()
                steps.append((None, kind))
        close_run()
        return steps

    def __call__(self, digits: str) -> bool:
        steps = self._by_length.get(len(digits))
        if steps is None:
            steps = self._by_length[len(digits)] = self._steps(len(digits))
        if len(steps) == 1 and steps[0][0] is None:
            kind = steps[0][1]
            return kind is not None and bool(kind(digits))
        for claim, kinds in steps:
            if claim is None:
                if kinds is not None and kinds(digits):
                    return True
                continue
            claimed = claim(digits)
            if claimed is not None:
                kind = kinds[claimed.lastgroup]
                return kind is not None and bool(kind(digits))
        return False


_validity: dict[int, _Validity] = {}
_valid_nanp = _validity[1] = _Validity(1)
# Stands for "ask phonenumbers": a case the shortcut below does not mirror. (No E.164
# number is empty.)
_UNSURE = ""
_is_digits = re.compile(r"[1-9][0-9]*").fullmatch


def _international_shortcut(digits: str) -> str | None:
    """What ``phonenumbers`` makes of "+" and ``digits`` (E.164 when valid, else None),
    or _UNSURE for what only a parse settles: a national prefix after the country code
    (which the library strips), a non-geographic code, odd lengths. A leading 0 after
    the country code stays in the number (the library's "Italian leading zero")."""
    if _is_digits(digits) is None:
        return _UNSURE
    # Country codes are prefix-free: at most one of the first 1 to 3 digits is one.
    for size in (1, 2, 3):
        country_code = int(digits[:size])
        if country_code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return None  # the library cannot read the digits after the + either
    national = digits[size:]
    valid = _validity.get(country_code)
    if valid is None:
        valid = _validity[country_code] = _Validity(country_code)
    if (
        not 2 <= len(national) <= 17
        or not valid.geographic
        or (valid.national_prefix is not None and valid.national_prefix(national))
    ):
        return _UNSURE
    return "+" + digits if valid(national) else None


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
            if match is not None:
                if _valid_nanp(match[1]):
                    return "+1" + match[1]
                # Invalid in the region, as a parse would find: only the second reading.
                return _international(text)
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
            return None if text.startswith("+") else _international(text)
        return phonenumbers.format_number(number, _E164)


def _international(text: str) -> str | None:
    """E.164 for digits read as an international number, a "+" put in front; or None."""
    shortcut = _international_shortcut(text)
    if shortcut != _UNSURE:
        return shortcut
    number = _parse("+" + text, None)
    if number is None or not _is_valid(number):
        return None
    return phonenumbers.format_number(number, _E164)


def _parse(text: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
