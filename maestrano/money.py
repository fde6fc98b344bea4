"""Amounts in widgets and reports: exact to the cent, finite whatever apps stored.

Impac! engines and Connec! reports sum in ``Decimal``, pass each sum through
``amount_checked`` (rounded to the cent, or ``None`` when it cannot be shown
exactly), compute on checked amounts with ``amount_sum``, and put
``amount_as_json`` of them in what they answer.
"""

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
# A JSON number is read as a double by browsers and by most JSON libraries, which
# keep 15 significant digits exactly: with two of them after the point, amounts
# under ten trillion survive the trip to any client digit for digit. A sum past
# that means an app stored an absurd amount, and showing it rounded would pass a
# wrong figure off as exact.
AMOUNT_LIMIT = Decimal(10) ** 13


def amount_checked(amount: Decimal | None) -> Decimal | None:
    """Return ``amount`` rounded half up to the cent, or ``None`` if it is unfit.

    Unfit is unknown (``None``), not a number, infinite, or ten trillion or more
    either way (``AMOUNT_LIMIT``), even once rounded.
    """
    if amount is None or not amount.is_finite() or abs(amount) >= AMOUNT_LIMIT:
        return None

    rounded = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    return rounded if abs(rounded) < AMOUNT_LIMIT else None


def amount_sum(amounts: Iterable[Decimal | None]) -> Decimal | None:
    """Return the checked sum of checked ``amounts``; ``None`` if any is unknown.

    An unknown part makes the whole unknown: huge amounts of opposite signs could
    otherwise cancel out into a small, plausible and wrong total.
    """
    total = Decimal(0)
    for amount in amounts:
        if amount is None:
            return None
        total += amount
    return amount_checked(total)


def amount_as_json(amount: Decimal | None) -> float | None:
    """Return the JSON number of a checked ``amount``; it reads back as exactly it.

    ``None`` (an unknown amount) becomes JSON ``null``.
    """
    # float() is exact enough here: a checked amount has at most 15 significant
    # digits, and the shortest repr of the nearest double gives those digits back.
    return None if amount is None else float(amount)
