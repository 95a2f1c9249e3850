"""The shortcuts in the prepare path give exactly what the slow paths they skip give.

Each shortcut is checked against the code it bypasses on many deterministic random
inputs, shaped to sit on both sides of the shortcut's pattern.
"""

from __future__ import annotations

import random
import re
from decimal import Decimal
from hashlib import sha256

import orjson
import phonenumbers
import pytest

from amp_destinations import Batch
from tiktok_ads_events._money import CURRENCY_CODES, line_value, parse_currency, parse_quantity
from tiktok_ads_events._phones import _UNSURE, PhoneHasher, _international_shortcut, _valid_nanp

NANP_REGIONS = phonenumbers.region_codes_for_country_code(1)
# What PhoneHasher.hash strips before reading a number.
SEPARATORS = str.maketrans("", "", " \t\u00a0-.()/")
# The shape the NANP shortcut takes, to check the inputs do exercise it.
SHORTCUT_SHAPE = re.compile(r"1?[2-9][0-9]{2}[2-9][0-9]{6}").fullmatch
OTHER_SCRIPT_DIGITS = ("\uff10", "\u0660", "\u0966")  # fullwidth, Arabic-Indic, Devanagari


def nanp_like_numbers(count: int, seed: int) -> list[str]:
    """Numbers that look North American: valid and invalid area and exchange codes
    (0xx, 1xx), with and without the trunk 1, one digit short or long, written in
    the ways exports write them."""
    rng = random.Random(seed)
    numbers = []
    for _ in range(count):
        # A third of area and exchange codes may be anything, 0xx and 1xx included.
        area, exchange = (
            f"{rng.randrange(1000):03d}" if rng.random() < 0.3 else str(rng.randrange(200, 1000))
            for _ in range(2)
        )
        line = f"{rng.randrange(10000):04d}"
        roll = rng.random()
        if roll < 0.05:
            line = line[:-1]
        elif roll < 0.1:
            line += str(rng.randrange(10))
        trunk = rng.choice(("", "", "1", "1", "0", "11", "+1"))
        style = rng.randrange(7)
        if style == 0:
            number = f"{trunk}{area}{exchange}{line}"
        elif style == 1:
            number = f"{trunk} ({area}) {exchange}-{line}"
        elif style == 2:
            number = f"{trunk}-{area}-{exchange}-{line}"
        elif style == 3:
            number = f"{trunk}{area}.{exchange}.{line}"
        elif style == 4:
            number = f"{trunk}{area}\t{exchange}\u00a0{line}/"
        elif style == 5:
            number = f"{trunk}{area}{exchange}{line} ext. {rng.randrange(100)}"
        else:  # some digits in another script, which phonenumbers reads as ASCII ones
            zero = ord(rng.choice(OTHER_SCRIPT_DIGITS))
            number = "".join(
                chr(zero + int(c)) if c.isdigit() and rng.random() < 0.3 else c
                for c in f"{trunk}{area}{exchange}{line}"
            )
        numbers.append(number)
    return numbers


def assert_shortcut_agrees(hasher: PhoneHasher, numbers: list[str]) -> int:
    """Compare ``to_e164`` with phonenumbers' own reading; return how many inputs had
    the shortcut's shape once separators were stripped."""
    shaped = 0
    for raw in numbers:
        stripped = raw.translate(SEPARATORS)
        shaped += SHORTCUT_SHAPE(stripped) is not None
        for text in (raw, stripped):
            assert hasher.to_e164(text) == hasher.parse_to_e164(text), (hasher.default_region, text)
    return shaped


def test_the_nanp_shortcut_agrees_with_phonenumbers_on_20000_us_numbers():
    numbers = nanp_like_numbers(20_000, seed=1)
    shaped = assert_shortcut_agrees(PhoneHasher("US"), numbers)
    # Both sides of the pattern are well represented.
    assert 0.3 * len(numbers) < shaped < 0.7 * len(numbers)


@pytest.mark.parametrize("region", sorted(set(NANP_REGIONS) - {"US"}))
def test_the_nanp_shortcut_agrees_with_phonenumbers_in_every_nanp_region(region):
    seed = int.from_bytes(region.encode())
    assert_shortcut_agrees(PhoneHasher(region), nanp_like_numbers(400, seed=seed))


def test_the_nanp_validity_check_agrees_with_phonenumbers_on_every_area_code():
    """The shortcut's validity check against phonenumbers.is_valid_number: every area
    code a pattern lets through, each with exchanges from 200 to 999."""
    rng = random.Random(4)
    for area in range(200, 1000):
        for exchange in rng.sample(range(200, 1000), 12):
            digits = f"{area}{exchange}{rng.randrange(10000):04d}"
            number = phonenumbers.PhoneNumber(country_code=1, national_number=int(digits))
            assert _valid_nanp(digits) == phonenumbers.is_valid_number(number), digits


def international_reading(digits: str) -> str | None:
    """What phonenumbers alone makes of digits read as an international number."""
    try:
        number = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def test_the_international_shortcut_agrees_with_phonenumbers_for_every_country_code():
    """Random digits after each country code (some after a 0), digits that start with
    no country code, and every example number phonenumbers has (one per region and kind
    of number, all valid), without their "+"."""
    rng = random.Random(5)
    samples = [
        f"{code}{rng.choice(('', '0'))}{rng.randrange(10 ** rng.randrange(3, 13)):d}"
        for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE
        for _ in range(60)
    ]
    samples += [f"{code}{rng.randrange(10**9):09d}" for code in (28, 42, 80, 83, 89, 969)]
    for region in phonenumbers.SUPPORTED_REGIONS:
        for kind in phonenumbers.PhoneNumberType.values():
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None:
                formatted = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
                samples.append(formatted[1:])
    settled = 0
    for digits in samples:
        got = _international_shortcut(digits)
        if got != _UNSURE:
            settled += 1
            assert got == international_reading(digits), digits
    assert settled > 0.7 * len(samples)


@pytest.mark.parametrize("region", ["US", "CA", "JM"])
def test_a_number_that_cannot_exist_is_refused_on_both_paths(region):
    hasher = PhoneHasher(region)
    for text in ("1234567890", "2121234567", "9115550100"):
        assert hasher.to_e164(text) is None and hasher.parse_to_e164(text) is None, text
    for text in ("2133734253", "4165550123", "8765550100", "447911123456"):
        assert hasher.to_e164(text) == hasher.parse_to_e164(text) is not None, text


def test_the_same_digits_outside_the_nanp_are_read_in_that_region():
    assert PhoneHasher("GB").to_e164("2079460018") == "+442079460018"
    assert PhoneHasher("US").to_e164("2079460018") == "+12079460018"
    assert PhoneHasher("us").to_e164("12079460018") == "+12079460018"


def test_hashing_goes_through_the_shortcut_with_the_same_digest():
    hasher = PhoneHasher("US")
    for raw in nanp_like_numbers(2_000, seed=2):
        if raw.startswith("+"):
            continue  # E.164 input never reaches to_e164
        expected = hasher.parse_to_e164(raw.translate(SEPARATORS))
        digest = hasher.hash(raw)
        assert (digest is None) == (expected is None), raw
        if expected is not None:
            assert digest == sha256(expected.encode()).hexdigest(), raw


def uncached_line_value(price: float, quantity: int) -> float:
    return float(Decimal(repr(price)) * quantity)


def test_line_value_is_the_same_from_the_cache_as_computed_afresh():
    rng = random.Random(3)
    prices = [rng.randrange(0, 100_000) / 100 for _ in range(300)] + [
        0.0,
        -0.0,
        0.1,
        1e-7,
        12.345678,
        1e16,
        2.0**60,
        9.99,
    ]
    pairs = [(rng.choice(prices), rng.randrange(0, 12)) for _ in range(20_000)]
    for price, quantity in pairs + pairs:  # the second round is answered by the cache
        got, expected = line_value(price, quantity), uncached_line_value(price, quantity)
        assert repr(got) == repr(expected), (price, quantity)


def test_a_negative_zero_price_is_not_confused_with_zero_in_the_cache():
    assert repr(line_value(0.0, 3)) == "0.0"
    assert repr(line_value(-0.0, 3)) == "-0.0"
    assert repr(line_value(0.0, 3)) == "0.0"


def test_quantities_looked_up_and_quantities_parsed_agree():
    for number in range(1200):  # across the end of the lookup table
        for text in (str(number), f" {number} ", f"{number}.0", f"0{number}"):
            quantity = parse_quantity(text)
            assert quantity == number and quantity.__class__ is int, text


def test_currency_codes_as_written_and_to_be_cleaned_read_the_same():
    for code in CURRENCY_CODES:
        assert parse_currency(code) == parse_currency(f" {code.lower()} ") == code
    with pytest.raises(ValueError):
        parse_currency(["USD"])


@pytest.mark.parametrize("count", [0, 1, 2, 1000])
def test_a_batch_body_is_the_envelope_around_the_items_byte_for_byte(make_destination, count):
    destination = make_destination(test_event_code="TEST4242")
    parts = [orjson.dumps({"event": "Lead", "event_id": f"e{i}"}) for i in range(count)]
    body = Batch.from_parts(destination, "7123456789012345678", tuple(parts)).body
    assert body == (
        b'{"event_source":"offline","event_source_id":"7123456789012345678",'
        b'"partner_name":"AmpDestinations","test_event_code":"TEST4242",'
        b'"data":[' + b",".join(parts) + b"]}"
    )
    assert len(orjson.loads(body)["data"]) == count
