"""SHA-256 of the identifiers TikTok matches on, the way TikTok's documentation asks.

Values that already are SHA-256 hex digests pass through, so an export that hashes
upstream is not hashed twice (which would make every match fail).
"""

from __future__ import annotations

import re
from hashlib import sha256

__all__ = ["is_sha256_hex", "hash_email", "hash_external_id"]

is_sha256_hex = re.compile(r"[0-9a-f]{64}").fullmatch

# Deliberately loose: it catches what is plainly not an address ("N/A", a phone number,
# a name) without policing RFC 5322. One "@", a non-empty local part, a domain of two
# or more non-empty dot-separated labels, no whitespace and no control character (a NUL
# is a damaged value, not part of an address) anywhere.
_NOT_IN_PART = r"@\s\x00-\x1f\x7f-\x9f"
_looks_like_email = re.compile(
    rf"[^{_NOT_IN_PART}]++@[^{_NOT_IN_PART}.]++(?:\.[^{_NOT_IN_PART}.]++)++"
).fullmatch
# Characters that show as nothing: the zero-width space and joiners, the word joiner,
# the soft hyphen, direction marks and a byte order mark strayed from a file's start.
# A pasted or concatenated export carries them; the address meant is the one without.
_INVISIBLE = str.maketrans(
    "",
    "",
    "\u00ad\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2066\u2067\u2068\u2069\ufeff",
)


def hash_email(text: str) -> str | None:
    """The hash of a trimmed email, or None when it is not an email address.

    Invisible characters are removed first (only a non-ASCII value can hold them), then
    the email is lower-cased, so a digest supplied in upper-case hex passes through (in
    lower case) like a lower-case one.
    """
    if not text.isascii():
        text = text.translate(_INVISIBLE).strip()
    email = text.lower()
    if len(email) == 64 and is_sha256_hex(email):
        return email
    if _looks_like_email(email) is None:
        return None
    try:
        return sha256(email.encode()).hexdigest()
    except UnicodeEncodeError:  # a lone surrogate (Python rows only): not text at all
        return None


def hash_external_id(text: str) -> str:
    """The hash of a trimmed external id; only lower-case hex counts as already hashed,
    because an upper-case hex string may well be a genuine id."""
    if len(text) == 64 and is_sha256_hex(text):
        return text
    return sha256(text.encode()).hexdigest()
