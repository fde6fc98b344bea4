"""The time window of a widget: ``metadata[hist_parameters]`` as Impac! reads it.

A window is a period kind (days, weeks, months, quarters or years) and two dates,
both included. Widgets chart at most ``MAX_INTERVALS`` periods, as the original
Impac! did: a window reaching further back is cut at its start. A window the caller
left open starts where a period starts, so that each period it lists is whole.
"""

import re
from dataclasses import dataclass
from datetime import date, timedelta

from . import errors

MAX_INTERVALS = 20
DEFAULT_PERIOD = "MONTHLY"
DEFAULT_MONTHS = 12

_MONTH_NAMES = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Keeps the period arithmetic (20 periods back, one period on) inside the calendar
# Python knows; invoices outside these years are mistakes, not history. A date
# outside is refused when the caller writes it, and never made up for them.
# 1900-01-01 is a Monday as well as a 1 January, so every kind of period starts on
# it and a window clamped to it still lists whole periods.
_EARLIEST = date(1900, 1, 1)
_LATEST = date(2999, 12, 31)


def _months_later(day: date, months: int) -> date:
    """Return the first of the month ``months`` after the month of ``day``."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    name: str
    trunc_field: str  # the PostgreSQL date_trunc field that groups by it
    days: int = 0
    months: int = 0

    def start_of(self, day: date) -> date:
        if self.name == "WEEKLY":
            return day - timedelta(days=day.weekday())  # ISO weeks start on Monday
        if self.days:
            return day
        return _months_later(day, -((day.month - 1) % self.months))

    def shift(self, start: date, count: int) -> date:
        if self.days:
            return start + timedelta(days=self.days * count)
        return _months_later(start, self.months * count)

    def key(self, start: date) -> str:
        """Return the stable name of the period that begins on ``start``."""
        match self.name:
            case "DAILY":
                return start.isoformat()
            case "WEEKLY":
                year, week, _ = start.isocalendar()
                return f"{year}-W{week:02d}"
            case "MONTHLY":
                return f"{start.year}-{start.month:02d}"
            case "QUARTERLY":
                return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
            case _:
                return str(start.year)

    def label(self, start: date) -> str:
        """Return how a person reads the period that begins on ``start``."""
        month = _MONTH_NAMES[start.month - 1]
        match self.name:
            case "DAILY":
                return f"{start.day} {month} {start.year}"
            case "WEEKLY":
                return f"Week of {start.day} {month} {start.year}"
            case "MONTHLY":
                return f"{month} {start.year}"
            case "QUARTERLY":
                return f"Q{(start.month - 1) // 3 + 1} {start.year}"
            case _:
                return str(start.year)


PERIODS = {
    period.name: period
    for period in (
        Period("DAILY", "day", days=1),
        Period("WEEKLY", "week", days=7),
        Period("MONTHLY", "month", months=1),
        Period("QUARTERLY", "quarter", months=3),
        Period("YEARLY", "year", months=12),
    )
}


@dataclass(frozen=True)
class HistParameters:
    """A window as applied: what the widget really computed over."""

    period: Period
    start: date
    end: date

    def period_starts(self) -> list[date]:
        first = self.period.start_of(self.start)
        starts = [self.period.shift(first, index) for index in range(MAX_INTERVALS)]
        return [start for start in starts if start <= self.end]

    def as_json(self) -> dict:
        return {
            "period": self.period.name,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
        }


def hist_parameters_parse(raw: dict, *, today: date) -> HistParameters:
    """Return the window that ``raw`` (``period``, ``from``, ``to``) asks for.

    Missing values default to monthly periods over the twelve months up to
    ``today`` (or up to ``to``); with another period, the window starts where the
    period holding the first of those months starts (on 1 January for years), but
    never before 1900. A window of more than ``MAX_INTERVALS`` periods keeps its
    latest ones. Anything unreadable raises ``invalid_hist_parameters``.
    """
    name = (raw.get("period") or DEFAULT_PERIOD).upper()
    if name not in PERIODS:
        raise errors.invalid_hist_parameters(
            "period", f"period must be one of {', '.join(PERIODS)}."
        )
    period = PERIODS[name]

    end = _date(raw, "to") or today
    start = _date(raw, "from") or _default_start(period, end)
    if start > end:
        raise errors.invalid_hist_parameters("from", "from must not be after to.")

    earliest = period.shift(period.start_of(end), 1 - MAX_INTERVALS)
    return HistParameters(period=period, start=max(start, earliest), end=end)


def _default_start(period: Period, end: date) -> date:
    # From the period's start: a yearly window over the last twelve months that
    # began in December would list a year holding one month of its invoices.
    start = period.start_of(_months_later(end, 1 - DEFAULT_MONTHS))
    return max(start, _EARLIEST)


def _date(raw: dict, name: str) -> date | None:
    text = raw.get(name) or ""
    if not text:
        return None

    try:
        value = date.fromisoformat(text) if _DATE.match(text) else None
    except ValueError:
        value = None
    if value is None or not _EARLIEST <= value <= _LATEST:
        raise errors.invalid_hist_parameters(
            name,
            f"{name} must be a date written YYYY-MM-DD between "
            f"{_EARLIEST.isoformat()} and {_LATEST.isoformat()}.",
        )
    return value
