"""Phone numbers to the SHA-256 of their E.164 form ("+" and the digits).

Most exports already hold E.164 numbers: those are recognised by a pattern and hashed
without touching ``phonenumbers``, which costs some 15 microseconds a number. Only
national formats ("(213) 373-4253", "020 7946 0018") go through the library, read in
the destination's default region.
"""

from __future__ import annotations

import re
from hashlib import sha256

import phonenumbers

from ._hashing import is_sha256_hex

__all__ = ["PhoneHasher"]

_is_e164 = re.compile(r"\+[1-9][0-9]{6,14}").fullmatch
_SEPARATORS = str.maketrans("", "", " \t\u00a0-.()/")
_E164 = phonenumbers.PhoneNumberFormat.E164
_POSSIBLE = phonenumbers.ValidationResult.IS_POSSIBLE


class PhoneHasher:
    """Hash phone numbers, reading those without a "+" in ``default_region``."""

    __slots__ = ("default_region",)

    def __init__(self, default_region: str):
        self.default_region = default_region.upper()

    def hash(self, text: str) -> str | None:
        """The hash of a trimmed phone number, or None when it is not one."""
        if _is_e164(text) is None:
            if len(text) == 64:
                digest = text.lower()
                return digest if is_sha256_hex(digest) else None
            text = text.translate(_SEPARATORS)
            if _is_e164(text) is None:
                text = self.to_e164(text)
                if text is None:
                    return None
        return sha256(text.encode()).hexdigest()

    def to_e164(self, text: str) -> str | None:
        """E.164 for a number in any format, or None.

        A number must be *possible* (a plausible length for its country), not *valid*:
        validity depends on number-range metadata that lags behind new ranges, and a
        number that does not exist costs nothing but a hash that matches no one.
        Local-only numbers (a US number without its area code) are refused: their
        E.164 form would be wrong.
        """
        try:
            number = phonenumbers.parse(text, self.default_region)
        except phonenumbers.NumberParseException:
            return None
        if phonenumbers.is_possible_number_with_reason(number) != _POSSIBLE:
            return None
        return phonenumbers.format_number(number, _E164)
