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
# or more non-empty dot-separated labels, no whitespace anywhere.
_looks_like_email = re.compile(r"[^@\s]++@[^@\s.]++(?:\.[^@\s.]++)++").fullmatch


def hash_email(text: str) -> str | None:
    """The hash of a trimmed email, or None when it is not an email address.

    Lower-casing comes first, so a digest supplied in upper-case hex passes through
    (in lower case) like a lower-case one.
    """
    email = text.lower()
    if len(email) == 64 and is_sha256_hex(email):
        return email
    if _looks_like_email(email) is None:
        return None
    return sha256(email.encode()).hexdigest()


def hash_external_id(text: str) -> str:
    """The hash of a trimmed external id; only lower-case hex counts as already hashed,
    because an upper-case hex string may well be a genuine id."""
    if len(text) == 64 and is_sha256_hex(text):
        return text
    return sha256(text.encode()).hexdigest()
