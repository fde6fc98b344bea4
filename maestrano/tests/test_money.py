import json
from decimal import Decimal

import pytest

from maestrano.money import amount_as_json, amount_checked, amount_sum


@pytest.mark.parametrize(
    ("amount", "checked"),
    [
        (Decimal("1100"), Decimal("1100.00")),
        (Decimal("12.345"), Decimal("12.35")),
        (Decimal("-12.345"), Decimal("-12.35")),
        (Decimal("0.004"), Decimal("0.00")),
        (Decimal("9999999999999.99"), Decimal("9999999999999.99")),
        (Decimal("-9999999999999.99"), Decimal("-9999999999999.99")),
    ],
)
def test_an_amount_is_rounded_to_the_cent(amount, checked):
    assert amount_checked(amount) == checked
    assert amount_checked(amount).as_tuple().exponent == -2


@pytest.mark.parametrize(
    "amount",
    [
        Decimal("1E13"),
        Decimal("-1E13"),
        Decimal("9999999999999.995"),
        Decimal("1E308"),
        Decimal("NaN"),
        Decimal("Infinity"),
        Decimal("-Infinity"),
        None,
    ],
)
def test_an_amount_out_of_range_or_unknown_is_none(amount):
    assert amount_checked(amount) is None


def test_a_sum_is_none_when_one_of_its_amounts_is():
    assert amount_sum([Decimal("1.50"), Decimal("2.25")]) == Decimal("3.75")
    assert amount_sum([]) == Decimal("0.00")
    assert amount_sum([Decimal("1.50"), None]) is None
    assert amount_sum([Decimal("9999999999999.99"), Decimal("0.01")]) is None


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (Decimal("9999999999999.99"), "9999999999999.99"),
        (Decimal("-1234567890123.45"), "-1234567890123.45"),
        (Decimal("0.10"), "0.1"),
        (Decimal("1500.00"), "1500.0"),
        (None, "null"),
    ],
)
def test_an_amount_reads_back_from_json_as_exactly_itself(amount, text):
    written = json.dumps(amount_as_json(amount))

    assert written == text
    assert json.loads(written, parse_float=Decimal) == amount
