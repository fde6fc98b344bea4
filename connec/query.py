"""The ``$filter`` language of Connec!, compiled to Django queries on the record table.

A filter is one or more clauses ``field operator value`` joined by ``and``, for example
``updated_at gt '2026-01-01T00:00:00Z' and type eq 'CUSTOMER'``. Strings are single
quoted (a quote inside is doubled), numbers and ``true``/``false``/``null`` are bare,
and nested document fields are written with dots (``amount.total_amount``).
"""

import datetime
import re
import uuid
from dataclasses import dataclass, field

from django.db.models import Q
from django.db.models.fields.json import KeyTransform
from django.utils.dateparse import parse_date, parse_datetime

from . import errors

OPERATORS = {"eq", "ne", "gt", "lt", "gte", "lte"}
_KEYWORDS = {"and", "true", "false", "null"}
_LOOKUPS = {"gt": "gt", "lt": "lt", "gte": "gte", "lte": "lte"}

# Columns of the record table; every other field is looked up in the document.
_TIMESTAMP_COLUMNS = {"created_at", "updated_at"}
_COLUMNS = _TIMESTAMP_COLUMNS | {"id"}

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^']|'')*')
      | (?P<number>-?\d+(?:\.\d+)?(?![\w.]))
      | (?P<word>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
      | (?P<other>\S)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    position: int  # 1-based, for messages

    @property
    def value(self):
        if self.kind == "string":
            return self.text[1:-1].replace("''", "'")
        if self.kind == "number":
            return float(self.text) if "." in self.text else int(self.text)
        return {"true": True, "false": False, "null": None}[self.text.lower()]


def _tokens(text):
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:  # only trailing blanks are left
            return
        kind = match.lastgroup
        start = match.start(kind)
        if kind == "other":
            if match.group(kind) == "'":
                raise errors.invalid_filter(start + 1, "a string is never closed")
            raise errors.invalid_filter(
                start + 1, f"unexpected character {match.group(kind)!r}"
            )
        yield Token(kind, match.group(kind), start + 1)
        position = match.end()


def parse(text: str) -> list[tuple[str, str, Token]]:
    """Return the clauses of a filter as ``(field, operator, value token)`` triples."""
    tokens = list(_tokens(text))
    clauses = []
    index = 0
    end = len(text) + 1

    def take(description):
        nonlocal index
        if index >= len(tokens):
            raise errors.invalid_filter(end, f"expected {description}")
        index += 1
        return tokens[index - 1]

    while True:
        name = take("a field name")
        if name.kind != "word" or name.text.lower() in _KEYWORDS:
            raise errors.invalid_filter(name.position, "expected a field name")

        operator = take("an operator (eq, ne, gt, lt, gte, lte)")
        if operator.kind != "word" or operator.text.lower() not in OPERATORS:
            raise errors.invalid_filter(
                operator.position,
                f"{operator.text!r} is not an operator (eq, ne, gt, lt, gte, lte)",
            )

        value = take("a value")
        literal = value.kind in {"string", "number"} or (
            value.kind == "word" and value.text.lower() in {"true", "false", "null"}
        )
        if not literal:
            raise errors.invalid_filter(
                value.position,
                f"{value.text!r} is not a value; quote strings like 'this'",
            )
        clauses.append((name.text, operator.text.lower(), value))

        if index == len(tokens):
            return clauses
        joiner = take("and")
        if joiner.kind != "word" or joiner.text.lower() != "and":
            raise errors.invalid_filter(
                joiner.position, f"expected 'and' before {joiner.text!r}"
            )


def _timestamp(token):
    if not isinstance(token.value, str):
        raise errors.invalid_filter(token.position, "a date must be a quoted string")
    try:
        moment = parse_datetime(token.value)
        if moment is None:
            day = parse_date(token.value)
            moment = day and datetime.datetime.combine(day, datetime.time.min)
    except ValueError:  # well-formed, but not on the calendar (2026-02-30)
        moment = None
    if moment is None:
        raise errors.invalid_filter(
            token.position, f"{token.value!r} is not an ISO-8601 date or time"
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment


def _column_value(field, token):
    if field in _TIMESTAMP_COLUMNS:
        return _timestamp(token)
    try:
        return uuid.UUID(token.value)
    except (AttributeError, TypeError, ValueError):
        raise errors.invalid_filter(
            token.position, "an id is a quoted Connec! id"
        ) from None


def _document_path(field):
    # Each dotted part is a key of the document, never a Django lookup: building the
    # expression by hand keeps "title.regex" meaning the key "regex" of "title".
    expression = "document"
    for key in field.split("."):
        expression = KeyTransform(key, expression)
    return expression


@dataclass
class Filter:
    """A compiled ``$filter``: document paths to alias, and the condition on them."""

    condition: Q = field(default_factory=Q)
    aliases: dict = field(default_factory=dict)

    def apply(self, records):
        return records.alias(**self.aliases).filter(self.condition)


def _clause(compiled, field_name, operator, token):
    if field_name in _COLUMNS:
        path, value = field_name, _column_value(field_name, token)
        missing = None
    else:
        path = f"_filter_{len(compiled.aliases)}"
        compiled.aliases[path] = _document_path(field_name)
        value = token.value
        # A document may lack the field altogether.
        missing = Q(**{f"{path}__isnull": True})

    if value is None:
        if operator not in {"eq", "ne"}:
            raise errors.invalid_filter(
                token.position, "null can only be compared with eq or ne"
            )
        empty = Q(**{path: None}) | (missing or Q(**{f"{path}__isnull": True}))
        return empty if operator == "eq" else ~empty

    if operator == "eq":
        return Q(**{path: value})
    if operator == "ne":
        # A record without the field is not equal to the value either.
        return ~Q(**{path: value}) | missing if missing else ~Q(**{path: value})
    return Q(**{f"{path}__{_LOOKUPS[operator]}": value})


def compile_filter(text: str) -> Filter:
    """Parse ``text`` and return the filter that selects matching records."""
    compiled = Filter()
    for field_name, operator, token in parse(text):
        compiled.condition &= _clause(compiled, field_name, operator, token)
    return compiled
