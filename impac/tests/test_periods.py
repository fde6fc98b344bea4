from datetime import date, timedelta

import pytest

from impac import errors
from impac.periods import PERIODS, hist_parameters_parse
from maestrano.errors import ApiError

TODAY = date(2026, 11, 20)


def test_default_window_is_the_twelve_months_up_to_today():
    hist_parameters = hist_parameters_parse({}, today=TODAY)

    assert hist_parameters.as_json() == {
        "period": "MONTHLY",
        "from": "2025-12-01",
        "to": "2026-11-20",
    }
    assert hist_parameters.period_starts() == [
        date(2025, 12, 1),
        *(date(2026, month, 1) for month in range(1, 12)),
    ]


def test_default_window_ends_at_the_given_to():
    hist_parameters = hist_parameters_parse({"to": "2026-03-15"}, today=TODAY)

    assert hist_parameters.as_json() == {
        "period": "MONTHLY",
        "from": "2025-04-01",
        "to": "2026-03-15",
    }


@pytest.mark.parametrize(
    ("period", "start", "starts"),
    [
        ("YEARLY", "2025-01-01", [date(2025, 1, 1), date(2026, 1, 1)]),
        (
            "QUARTERLY",
            "2025-10-01",
            [date(2025, 10, 1), *(date(2026, month, 1) for month in (1, 4, 7, 10))],
        ),
        (
            "WEEKLY",
            "2026-07-06",
            [date(2026, 7, 6) + timedelta(weeks=week) for week in range(20)],
        ),
        (
            "DAILY",
            "2026-11-01",
            [date(2026, 11, 1) + timedelta(days=day) for day in range(20)],
        ),
    ],
)
def test_default_window_starts_where_its_first_period_starts(period, start, starts):
    hist_parameters = hist_parameters_parse({"period": period}, today=TODAY)

    assert hist_parameters.as_json() == {
        "period": period,
        "from": start,
        "to": "2026-11-20",
    }
    assert hist_parameters.period_starts() == starts


def test_default_yearly_window_counts_the_whole_of_last_year():
    hist_parameters = hist_parameters_parse(
        {"period": "YEARLY", "to": "2026-11-30"}, today=TODAY
    )

    assert hist_parameters.as_json() == {
        "period": "YEARLY",
        "from": "2025-01-01",
        "to": "2026-11-30",
    }


@pytest.mark.parametrize(
    ("period", "to"),
    [
        ("MONTHLY", "1900-01-01"),
        ("QUARTERLY", "1900-05-31"),
        ("YEARLY", "1900-06-30"),
        ("WEEKLY", "1900-03-01"),
        ("DAILY", "1900-01-05"),
    ],
)
def test_default_window_never_starts_before_1900(period, to):
    hist_parameters = hist_parameters_parse({"period": period, "to": to}, today=TODAY)

    assert hist_parameters.as_json() == {
        "period": period,
        "from": "1900-01-01",
        "to": to,
    }
    assert hist_parameters.period_starts()[0] == date(1900, 1, 1)


def test_a_window_of_more_than_twenty_periods_keeps_the_latest_twenty():
    hist_parameters = hist_parameters_parse(
        {"period": "WEEKLY", "from": "2026-01-01", "to": "2026-11-20"}, today=TODAY
    )

    starts = hist_parameters.period_starts()
    assert hist_parameters.as_json()["from"] == "2026-07-06"
    assert len(starts) == 20
    assert (starts[0], starts[-1]) == (date(2026, 7, 6), date(2026, 11, 16))


def test_the_period_is_read_whatever_its_case():
    hist_parameters = hist_parameters_parse({"period": "quarterly"}, today=TODAY)

    assert hist_parameters.period.name == "QUARTERLY"
    assert hist_parameters.period_starts() == [
        date(2025, 10, 1),
        date(2026, 1, 1),
        date(2026, 4, 1),
        date(2026, 7, 1),
        date(2026, 10, 1),
    ]


@pytest.mark.parametrize(
    ("period", "key", "label"),
    [
        ("DAILY", "2026-11-20", "20 Nov 2026"),
        ("WEEKLY", "2026-W47", "Week of 16 Nov 2026"),
        ("MONTHLY", "2026-11", "Nov 2026"),
        ("QUARTERLY", "2026-Q4", "Q4 2026"),
        ("YEARLY", "2026", "2026"),
    ],
)
def test_each_period_has_a_key_and_a_label(period, key, label):
    start = PERIODS[period].start_of(TODAY)

    assert PERIODS[period].key(start) == key
    assert PERIODS[period].label(start) == label


@pytest.mark.parametrize(
    ("raw", "pointer"),
    [
        ({"period": "HOURLY"}, "metadata[hist_parameters][period]"),
        ({"period": "RANGE"}, "metadata[hist_parameters][period]"),
        ({"from": "2026-02-30"}, "metadata[hist_parameters][from]"),
        ({"from": "20260201"}, "metadata[hist_parameters][from]"),
        ({"to": "yesterday"}, "metadata[hist_parameters][to]"),
        ({"to": "1899-12-31"}, "metadata[hist_parameters][to]"),
        ({"from": "2026-11-21"}, "metadata[hist_parameters][from]"),
    ],
)
def test_an_unreadable_window_is_refused(raw, pointer):
    with pytest.raises(ApiError) as refusal:
        hist_parameters_parse(raw, today=TODAY)

    assert refusal.value.code == errors.INVALID_HIST_PARAMETERS
    assert refusal.value.status == 400
    assert refusal.value.field == pointer
