"""Times as the APIs read them: ISO 8601 with an offset, kept in UTC."""

import datetime

from django.utils import dateparse


def aware_time_in_utc(value) -> datetime.datetime | None:
    """Read ``value`` as an ISO 8601 time with its offset, in UTC; else ``None``.

    ``None`` also for a time not on the calendar (2026-02-30) and for one that
    falls before year 1 or after year 9999 once in UTC. Kept in UTC because
    PostgreSQL refuses offsets past 15:59 that Python reads (up to 23:59).
    """
    if not isinstance(value, str):
        return None
    try:
        moment = dateparse.parse_datetime(value)
    except ValueError:
        return None
    if moment is None or moment.tzinfo is None:
        return None
    try:
        return moment.astimezone(datetime.UTC)
    except OverflowError:
        return None
