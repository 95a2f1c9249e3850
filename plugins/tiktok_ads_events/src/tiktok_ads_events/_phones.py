"""Phone numbers to the SHA-256 of their E.164 form ("+" and the digits).

Most exports already hold E.164 numbers: those are recognised by a pattern and hashed
without touching ``phonenumbers``, which costs some 15 microseconds a number. Only
national formats ("(213) 373-4253", "020 7946 0018") go through the library, read in
the destination's default region, except the common case of a ten-digit national
number in a region of the North American Numbering Plan, which a pattern settles.
"""

from __future__ import annotations

import re
from hashlib import sha256

import phonenumbers

from ._hashing import is_sha256_hex

__all__ = ["PhoneHasher"]

_is_e164 = re.compile(r"\+[1-9][0-9]{6,14}").fullmatch
# A NANP number: area code and exchange each start with 2-9, after an optional trunk
# prefix 1. phonenumbers reads these as +1 and the ten digits in every NANP region (ten
# digits is always a possible length there), so the pattern gives its answer without
# the cost. [0-9], not \d: the library turns other scripts' digits into ASCII ones.
_nanp_national = re.compile(r"1?([2-9][0-9]{2}[2-9][0-9]{6})").fullmatch
_SEPARATORS = str.maketrans("", "", " \t\u00a0-.()/")
_E164 = phonenumbers.PhoneNumberFormat.E164
_POSSIBLE = phonenumbers.ValidationResult.IS_POSSIBLE


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
            text = text.translate(_SEPARATORS)
            if _is_e164(text) is None:
                e164 = self.to_e164(text)
                if e164 is None:
                    return None
                text = e164
        return sha256(text.encode()).hexdigest()

    def to_e164(self, text: str) -> str | None:
        """E.164 for a number in any format, or None.

        A number must be *possible* (a plausible length for its country), not *valid*:
        validity depends on number-range metadata that lags behind new ranges, and a
        number that does not exist costs nothing but a hash that matches no one.
        Local-only numbers (a US number without its area code) are refused: their
        E.164 form would be wrong.
        """
        if self._in_nanp:
            match = _nanp_national(text)
            if match is not None:
                return "+1" + match[1]
        return self.parse_to_e164(text)

    def parse_to_e164(self, text: str) -> str | None:
        """``to_e164`` through ``phonenumbers`` alone, without the NANP shortcut."""
        try:
            number = phonenumbers.parse(text, self.default_region)
        except phonenumbers.NumberParseException:
            return None
        if phonenumbers.is_possible_number_with_reason(number) != _POSSIBLE:
            return None
        return phonenumbers.format_number(number, _E164)
