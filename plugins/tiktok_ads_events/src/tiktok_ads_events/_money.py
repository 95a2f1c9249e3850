"""Currency codes and money amounts.

Money is strict: a wrong amount misreports revenue in TikTok's reports, so every
function here raises ValueError rather than guessing, and the caller rejects the row.
Amounts come as text, or as native numbers from Parquet or Python: int, float, Decimal
(and other ``numbers.Real``); never a bool. What JSON cannot carry is refused: NaN,
infinities, and (for quantities) whole numbers beyond what a JSON number holds exactly.
"""

from __future__ import annotations

import numbers
from decimal import Decimal
from functools import lru_cache
from math import inf

__all__ = ["CURRENCY_CODES", "parse_currency", "parse_amount", "parse_quantity", "line_value"]

# The largest whole number a JSON number carries exactly everywhere (2^53 - 1): a
# larger quantity would reach TikTok changed, or not be encodable at all.
MAX_QUANTITY = 2**53 - 1

# ISO 4217 codes of circulating national and regional currencies (list one, 2025).
# Left out on purpose: fund codes (BOV, CHE, CHW, CLF, COU, MXV, USN, UYI, UYW),
# precious metals, bond-market units, XDR, XSU, XUA, and the test and "no currency"
# codes (XTS, XXX), none of which prices a purchase. ANG stays beside its successor
# XCG (2025) and BGN until the euro switch-over, while exports still carry them.
CURRENCY_CODES = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL
    BSD BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP
    ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR
    IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL
    LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR
    NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD
    SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX
    USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
    """.split()
)


def parse_currency(value: object) -> str | None:
    """An ISO 4217 code, upper-cased ("usd" is unambiguous); None when missing."""
    # Most rows hold the code as it should be: one set lookup settles them.
    if value.__class__ is str and value in CURRENCY_CODES:
        return value
    if not isinstance(value, str):
        if value is None:
            return None
        raise ValueError("not a currency code")
    code = value.strip().upper()
    if not code:
        return None
    if code not in CURRENCY_CODES:
        raise ValueError("not an ISO 4217 code")
    return code


def parse_amount(value: object) -> float | None:
    """A non-negative finite number; None when missing.

    Text is a plain decimal number: "1,000" is refused (a thousands separator or a
    decimal comma cannot be told apart), and so is "1_000", which float() would read.
    """
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        number = float(text)
        if "_" in text:
            raise ValueError("digits grouped with _")
    elif value is None:
        return None
    elif isinstance(value, bool):
        raise ValueError("not a number")
    elif isinstance(value, (int, float, Decimal, numbers.Real)):
        # float() of a huge int overflows, of a huge Decimal gives inf, of an sNaN raises.
        try:
            number = float(value)
        except OverflowError:
            raise ValueError("too large") from None
    else:
        raise ValueError("not a number")
    # One comparison refuses negatives, NaN and both infinities.
    if not 0.0 <= number < inf:
        raise ValueError("not a non-negative finite number")
    return number


# Quantities are mostly small numbers written plainly ("1", "2"): a lookup reads those.
_PLAIN_QUANTITIES = {str(number): number for number in range(1000)}


def parse_quantity(value: object) -> int | None:
    """A non-negative whole number ("3" and "3.0" alike); None when missing."""
    if value.__class__ is str:
        quantity = _PLAIN_QUANTITIES.get(value)
        if quantity is not None:
            return quantity
    number = parse_amount(value)
    if number is None:
        return None
    if not number.is_integer():
        raise ValueError("not a whole number")
    if number > MAX_QUANTITY:
        raise ValueError("too large")
    return int(number)


def line_value(price: float, quantity: int) -> float:
    """price x quantity without binary noise: 9.99 x 3 is 29.97, not 29.970000000000002.

    Decimal arithmetic on the price's shortest repr keeps every digit the price had,
    so sub-cent prices are not rounded away. ValueError when the product is too large
    for a float (1e308 x 10): JSON has no infinity, and it would reach TikTok as null.
    """
    # 0.0 and -0.0 are one key to a cache but give products of opposite signs.
    if not price:
        return _decimal_product(price, quantity)
    return _cached_product(price, quantity)


def _decimal_product(price: float, quantity: int) -> float:
    product = float(Decimal(repr(price)) * quantity)
    if product == inf:
        raise ValueError("too large")
    return product


# A file sells the same few prices in the same few quantities, row after row. Typed, so
# that an int price and the equal float are not answered from each other's entry.
_cached_product = lru_cache(maxsize=4096, typed=True)(_decimal_product)
