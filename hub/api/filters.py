"""The column filters of the original Developer API's list endpoints.

``field=value`` matches exactly; ``field_<operator>=value`` compares. The original
documented ``field__after`` but only understood ``field_after``, so both spellings
are read. A parameter naming no known attribute, or a value that cannot be read as
the attribute's type, matches nothing: the original answered an empty list there,
and SDKs rely on it rather than on an error.
"""

import datetime
import decimal
import re

from django.utils import dateparse

OPERATORS = {
    "strictly_greater_than": "gt",
    "strictly_lower_than": "lt",
    "strictly_before": "lt",
    "strictly_after": "gt",
    "greater_than": "gte",
    "lower_than": "lte",
    "before": "lte",
    "after": "gte",
}
# Longest first, so that ``_strictly_after`` is not read as ``_after``.
_SUFFIXES = sorted(OPERATORS, key=len, reverse=True)

TEXT, INTEGER, DECIMAL, TIME, BOOLEAN = "text", "integer", "decimal", "time", "boolean"


class _Unreadable(Exception):
    pass


def queryset_filter(queryset, params, attributes, *, ignored=("group_id",)):
    """Narrow ``queryset`` by ``params``; ``attributes`` maps a name to (path, kind)."""
    for key, value in params.items():
        if key in ignored:
            continue
        name, lookup = _split(key, attributes)
        if name is None:
            return queryset.none()
        path, kind = attributes[name]
        try:
            queryset = queryset.filter(**_condition(path, kind, lookup, value))
        except _Unreadable:
            return queryset.none()
    return queryset


def _split(key, attributes):
    if key in attributes:
        return key, "exact"
    for suffix in _SUFFIXES:
        if key.endswith("_" + suffix):
            name = key[: -len(suffix) - 1].removesuffix("_")
            if name in attributes:
                return name, OPERATORS[suffix]
    return None, None


def _condition(path, kind, lookup, value):
    if value == "" and kind != TEXT and lookup == "exact":
        return {f"{path}__isnull": True}
    if kind == BOOLEAN and lookup != "exact":
        raise _Unreadable
    return {f"{path}__{lookup}": _read(kind, value)}


def _read(kind, value):
    if kind == TEXT:
        return value
    if kind == INTEGER:
        if not re.fullmatch(r"[+-]?[0-9]{1,18}", value):
            raise _Unreadable
        return int(value)
    if kind == DECIMAL:
        try:
            number = decimal.Decimal(value)
        except decimal.InvalidOperation:
            raise _Unreadable from None
        if not number.is_finite():
            raise _Unreadable
        return number
    if kind == BOOLEAN:
        if value.lower() not in ("true", "false"):
            raise _Unreadable
        return value.lower() == "true"
    return _read_time(value)


def _read_time(value):
    try:
        moment = dateparse.parse_datetime(value)
        day = None if moment else dateparse.parse_date(value)
    except ValueError:
        raise _Unreadable from None
    if day is not None:
        moment = datetime.datetime.combine(day, datetime.time())
    if moment is None:
        raise _Unreadable
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment
