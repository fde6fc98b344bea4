"""The query language of Connec!, compiled to indexed PostgreSQL queries.

``$filter`` is one or more clauses ``field operator value`` joined by ``and``, for
example ``updated_at gt '2026-01-01T00:00:00Z' and address.billing.city eq 'Sydney'``.
Strings are single quoted (a quote inside is doubled), numbers and
``true``/``false``/``null`` are bare, lists are ``['a', 'b']`` and regular
expressions are ``/pattern/`` (``/pattern/i`` ignores case). Nested document fields
are written with dots, as the original platform's schemas name them. The original
language has no ``or`` and no parentheses, and neither has this one.

``$orderby`` is ``field [asc|desc]``, several separated by commas. ``$search``
looks for words anywhere in a record's text and numbers.
"""

import datetime
import json
import math
import re
import uuid
from dataclasses import dataclass, field, replace

from django.db import DataError, connection, transaction
from django.db.models import BooleanField, Case, CharField, F, Func, Q, Value, When
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.utils.dateparse import parse_date, parse_datetime

from . import errors
from .models import DocumentWords, Record

COMPARISONS = {"eq", "ne", "gt", "lt", "gte", "lte"}
OPERATORS = (*sorted(COMPARISONS), "match", "in")
_OPERATOR_LIST = ", ".join(OPERATORS)
_KEYWORDS = {"and", "true", "false", "null"}
_ORDER_LOOKUPS = {"gt": "gt", "lt": "lt", "gte": "gte", "lte": "lte"}

# Columns of the record table; every other field is looked up in the document.
_TIMESTAMP_COLUMNS = {"created_at", "updated_at"}
_COLUMNS = _TIMESTAMP_COLUMNS | {"id"}
# Transac! filters its lists on ``_id``, the record id of the original database.
_ALIASES = {"_id": "id"}
# The status a record shows: ARCHIVED once archived, else the document's own.
_STATUS = "status"

MAX_SEARCH_LENGTH = 200
# PostgreSQL refuses a query sorting by more than about 1,600 expressions; no
# listing needs more than a few.
MAX_SORT_KEYS = 32

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^']|'')*')
      | (?P<regex>/(?:[^/\\]|\\.)*/[A-Za-z]*)
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
    def is_literal(self):
        return self.kind in {"string", "number"} or (
            self.kind == "word" and self.text.lower() in {"true", "false", "null"}
        )

    @property
    def value(self):
        if self.kind == "string":
            return self.text[1:-1].replace("''", "'")
        if self.kind == "number":
            return float(self.text) if "." in self.text else int(self.text)
        return {"true": True, "false": False, "null": None}[self.text.lower()]


def _tokens(text, invalid):
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:  # only trailing blanks are left
            return
        kind = match.lastgroup
        start = match.start(kind)
        found = match.group(kind)
        if kind == "other" and found == "'":
            raise invalid(start + 1, "a string is opened here and never closed")
        if kind == "other" and found == "/":
            raise invalid(
                start + 1, "a regular expression is opened here and never closed"
            )
        token = Token(kind, found, start + 1)
        if kind == "number" and not _representable(token):
            raise invalid(token.position, f"the number {found[:20]}… is too large")
        yield token
        position = match.end()


def _representable(token):
    """Tell whether a number token reads as an integer or a finite float."""
    try:
        value = token.value
    except ValueError:  # more digits than Python reads into an integer
        return False
    return not isinstance(value, float) or math.isfinite(value)


def _found(token):
    return "the end" if token is None else repr(token.text)


class _Reader:
    """Tokens read one at a time, with errors that say where and what was found."""

    def __init__(self, text, invalid):
        self.tokens = list(_tokens(text, invalid))
        self.index = 0
        self.end = len(text) + 1
        self.invalid = invalid

    @property
    def done(self):
        return self.index >= len(self.tokens)

    def peek(self):
        return None if self.done else self.tokens[self.index]

    def take(self):
        token = self.peek()
        self.index += 1
        return token

    def refuse(self, token, expected):
        position = self.end if token is None else token.position
        return self.invalid(position, f"expected {expected}, found {_found(token)}")

    def field_name(self):
        token = self.take()
        if token is None or token.kind != "word" or token.text.lower() in _KEYWORDS:
            raise self.refuse(token, "a field name")
        return token


@dataclass(frozen=True)
class Clause:
    field: str
    operator: str
    value: Token | list  # a list of tokens for ``in``
    position: int


def parse(text: str) -> list[Clause]:
    """Return the clauses of a filter, or raise ``invalid_filter`` saying where."""
    reader = _Reader(text, errors.invalid_filter)
    clauses = []
    while True:
        name = reader.field_name()

        operator = reader.take()
        if operator is None or operator.text.lower() not in OPERATORS:
            raise reader.refuse(operator, f"an operator ({_OPERATOR_LIST})")
        operator_name = operator.text.lower()

        if operator_name == "in":
            value = _list(reader)
        elif operator_name == "match":
            value = reader.take()
            if value is None or value.kind != "regex":
                raise reader.refuse(value, "a regular expression like /^INV-/")
        else:
            value = reader.take()
            if value is None or not value.is_literal:
                raise reader.refuse(
                    value, "a value ('text', a number, true, false or null)"
                )
        clauses.append(Clause(name.text, operator_name, value, name.position))

        if reader.done:
            return clauses
        joiner = reader.take()
        if joiner.text.lower() != "and":
            raise reader.refuse(joiner, "'and' or the end of the filter")


def _list(reader):
    opening = reader.take()
    if opening is None or opening.text != "[":
        raise reader.refuse(opening, "a list like ['a', 'b']")
    items = []
    while True:
        token = reader.take()
        if token is not None and token.text == "]" and not items:
            return items
        if token is None or not token.is_literal:
            raise reader.refuse(token, "a value in the list")
        items.append(token)

        separator = reader.take()
        if separator is not None and separator.text == "]":
            return items
        if separator is None or separator.text != ",":
            raise reader.refuse(separator, "',' or ']' in the list")


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
    try:
        # Sent in UTC: PostgreSQL refuses offsets past 15:59 that Python reads.
        return moment.astimezone(datetime.UTC)
    except OverflowError:  # before year 1 or after year 9999 in UTC
        raise errors.invalid_filter(
            token.position, f"{token.value!r} is out of the range of dates"
        ) from None


def _column_value(field_name, token):
    if field_name in _TIMESTAMP_COLUMNS:
        return _timestamp(token)
    try:
        return uuid.UUID(token.value)
    except (AttributeError, TypeError, ValueError):
        raise errors.invalid_filter(
            token.position, "an id is a quoted Connec! id"
        ) from None


def _document_path(field_name):
    # Each dotted part is a key of the document, never a Django lookup: building the
    # expression by hand keeps "title.regex" meaning the key "regex" of "title".
    expression = "document"
    for key in field_name.split("."):
        expression = KeyTransform(key, expression)
    return expression


def _document_text(field_name):
    *parents, last = field_name.split(".")
    expression = "document"
    for key in parents:
        expression = KeyTransform(key, expression)
    return KeyTextTransform(last, expression)


def _containing(field_name, value):
    # ``document @> {...}`` is what the GIN index (jsonb_path_ops) answers, however
    # deep the field; a path comparison would read every document of the group.
    nested = value
    for key in reversed(field_name.split(".")):
        nested = {key: nested}
    return Q(document__contains=nested)


class _JsonType(Func):
    function = "jsonb_typeof"
    output_field = CharField()


_SHOWN_STATUS = Case(
    When(status=Record.Status.ARCHIVED, then=Value(Record.Status.ARCHIVED)),
    default=KeyTextTransform("status", "document"),
    output_field=CharField(),
)


@dataclass
class Filter:
    """A compiled ``$filter``: expressions to alias, and the condition on them."""

    condition: Q = field(default_factory=Q)
    aliases: dict = field(default_factory=dict)
    # The fields the filter names: one naming the status sees archived records.
    fields: set = field(default_factory=set)

    def apply(self, records):
        return records.alias(**self.aliases).filter(self.condition)

    def alias(self, expression):
        name = f"_filter_{len(self.aliases)}"
        self.aliases[name] = expression
        return name


def _regex_check(token):
    """Return ``(pattern, ignore case)`` once PostgreSQL accepts the pattern.

    PostgreSQL's regular expressions are not Python's, so only PostgreSQL can say
    whether a pattern is valid; asking costs one round trip, and only for ``match``.
    """
    closing = token.text.rindex("/")
    pattern, flags = token.text[1:closing], token.text[closing + 1 :]
    if set(flags) - {"i"}:
        raise errors.invalid_filter(
            token.position + closing + 1, f"unknown flag {flags!r}; only i is allowed"
        )
    pattern = pattern.replace("\\/", "/")
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT '' ~ %s", [pattern])
    except DataError as problem:
        reason = str(problem).strip().splitlines()[0]
        raise errors.invalid_filter(
            token.position, f"{token.text} is not a valid regular expression ({reason})"
        ) from None
    return pattern, "i" in flags


def _regex_condition(compiled, expression, token):
    pattern, ignore_case = _regex_check(token)
    lookup = "iregex" if ignore_case else "regex"
    return Q(**{f"{compiled.alias(expression)}__{lookup}": pattern})


def _document_clause(compiled, clause):
    name, operator, token = clause.field, clause.operator, clause.value
    if operator == "in":
        return _any_of(compiled, clause)
    if operator == "match":
        return _regex_condition(compiled, _document_text(name), token)

    value = token.value
    if value is None:
        if operator not in {"eq", "ne"}:
            raise errors.invalid_filter(
                token.position, "null can only be compared with eq, ne or in"
            )
        path = compiled.alias(_document_path(name))
        # JSON null and a missing key both read as null.
        empty = Q(**{path: None}) | Q(**{f"{path}__isnull": True})
        return empty if operator == "eq" else ~empty
    if operator == "eq":
        return _containing(name, value)
    if operator == "ne":
        # A record without the field is not equal to the value either.
        return ~_containing(name, value)
    if isinstance(value, bool):
        raise errors.invalid_filter(
            token.position, "true and false can only be compared with eq, ne or in"
        )

    path = compiled.alias(_document_path(name))
    kind = compiled.alias(_JsonType(path))
    # jsonb orders every number above every string: compare like with like only.
    json_type = "string" if isinstance(value, str) else "number"
    return Q(**{f"{path}__{_ORDER_LOOKUPS[operator]}": value, kind: json_type})


def _status_clause(compiled, clause):
    operator, token = clause.operator, clause.value
    if operator == "in":
        return _any_of(compiled, clause)
    if operator == "match":
        return _regex_condition(compiled, _SHOWN_STATUS, token)
    value = token.value
    if operator in {"eq", "ne"}:
        if value is None:
            shown = Q(status=Record.Status.ACTIVE) & (
                Q(document__status=None) | Q(document__status__isnull=True)
            )
        elif value == Record.Status.ARCHIVED:
            shown = Q(status=Record.Status.ARCHIVED) | _containing(_STATUS, value)
        else:
            shown = Q(status=Record.Status.ACTIVE) & _containing(_STATUS, value)
        return shown if operator == "eq" else ~shown
    if not isinstance(value, str):
        raise errors.invalid_filter(token.position, "a status is a quoted string")
    path = compiled.alias(_SHOWN_STATUS)
    return Q(**{f"{path}__{_ORDER_LOOKUPS[operator]}": value})


def _column_clause(compiled, clause):
    name, operator, token = clause.field, clause.operator, clause.value
    if operator == "in":
        return _any_of(compiled, clause)
    if operator == "match":
        raise errors.invalid_filter(
            token.position, f"match applies to text fields, not to {name}"
        )
    value = _column_value(name, token)
    if operator == "eq":
        return Q(**{name: value})
    if operator == "ne":
        return ~Q(**{name: value})
    if name == "id":
        raise errors.invalid_filter(
            token.position, "ids can only be compared with eq, ne or in"
        )
    return Q(**{f"{name}__{_ORDER_LOOKUPS[operator]}": value})


def _any_of(compiled, clause):
    # No value in the list: nothing matches, as in SQL.
    condition = Q(pk__in=[])
    for token in clause.value:
        condition |= _clause(
            compiled, Clause(clause.field, "eq", token, token.position)
        )
    return condition


def _clause(compiled, clause):
    if clause.field in _COLUMNS:
        return _column_clause(compiled, clause)
    if clause.field == _STATUS:
        return _status_clause(compiled, clause)
    return _document_clause(compiled, clause)


def compile_filter(text: str) -> Filter:
    """Parse ``text`` and return the filter that selects matching records."""
    compiled = Filter()
    for clause in parse(text):
        clause = replace(clause, field=_ALIASES.get(clause.field, clause.field))
        compiled.fields.add(clause.field)
        compiled.condition &= _clause(compiled, clause)
    return compiled


def compile_orderby(text: str) -> list:
    """Return the ordering ``text`` asks for, made total by the record id.

    Offset paging skips or repeats records whenever two of them tie on every sort
    key, so the id always breaks ties, in the direction of the last key: then
    ``updated_at desc`` reads the (…, updated_at, id) index backwards.
    """
    reader = _Reader(text, errors.invalid_orderby)
    ordering = []
    descending = False
    while not reader.done:
        name = reader.field_name()
        field_name = _ALIASES.get(name.text, name.text)

        direction = reader.peek()
        descending = False
        if direction is not None and direction.text.lower() in {"asc", "desc"}:
            descending = reader.take().text.lower() == "desc"
        ordering.append(_sort_key(field_name, descending))
        if len(ordering) > MAX_SORT_KEYS:
            raise errors.invalid_orderby(
                name.position, f"at most {MAX_SORT_KEYS} fields can be sorted on"
            )
        if field_name == "id":  # unique: any later key could never break a tie
            return ordering

        separator = reader.take()
        if separator is not None and separator.text != ",":
            raise reader.refuse(separator, "asc, desc, ',' or the end")
        if separator is not None and reader.done:
            raise reader.refuse(None, "a field name")

    if not ordering:
        return [F("created_at").asc(), F("id").asc()]
    return [*ordering, F("id").desc() if descending else F("id").asc()]


def _sort_key(field_name, descending):
    if field_name in _COLUMNS:
        expression = F(field_name)
    elif field_name == _STATUS:
        expression = _SHOWN_STATUS
    else:
        # jsonb values order numbers as numbers and text as text; a missing field
        # sorts last going up and first going down, as SQL nulls do.
        expression = _document_path(field_name)
    return expression.desc() if descending else expression.asc()


class _TextQuery(Func):
    template = "to_tsquery('simple'::regconfig, %(expressions)s)"
    output_field = CharField()


class _WordsMatch(Func):
    template = "%(expressions)s"
    arg_joiner = " @@ "
    output_field = BooleanField()


def compile_search(text: str) -> Q | None:
    """Return the condition that keeps records containing every word of ``text``.

    Words are matched from their start (``redes`` finds "redesign") in every text
    and number of the document; ``None`` when ``text`` has no word at all.
    """
    if len(text) > MAX_SEARCH_LENGTH:
        raise errors.invalid_search(
            f"$search is {len(text)} characters long; at most {MAX_SEARCH_LENGTH}."
        )
    terms = [term for term in text.lower().split() if re.search(r"\w", term)]
    if not terms:
        return None
    # Each term is one quoted lexeme of tsquery syntax; PostgreSQL splits it as it
    # split the documents (O'Brien into o and brien, web-site into three).
    quoted = (term.replace("\\", "\\\\").replace("'", "''") for term in terms)
    tsquery = " & ".join(f"'{term}':*" for term in quoted)
    # DocumentWords is spelled as the index record_search is, so PostgreSQL uses it.
    return Q(_WordsMatch(DocumentWords("document"), _TextQuery(Value(tsquery))))


@dataclass(frozen=True)
class Mapping:
    """One ``mappings[]`` entry: records shared, or not, with an app instance."""

    group_id: str
    include: bool


def parse_mappings(values: list[str]) -> list[Mapping]:
    """Read ``mappings[]`` values such as ``{"group_id": "cld-…", "include": true}``."""
    mappings = []
    for index, raw in enumerate(values):
        parameter = f"mappings[{index}]"
        try:
            entry = json.loads(raw)
        except ValueError:
            entry = None
        if not isinstance(entry, dict) or not isinstance(entry.get("group_id"), str):
            raise errors.invalid_mappings(
                parameter,
                f"{parameter} must be a JSON object such as "
                '{"group_id": "cld-…", "include": true}.',
            )
        include, exclude = entry.get("include") is True, entry.get("exclude") is True
        if include == exclude:
            raise errors.invalid_mappings(
                parameter,
                f'{parameter} must say either "include": true or "exclude": true.',
            )
        mappings.append(Mapping(entry["group_id"], include))
    return mappings


@dataclass(frozen=True)
class RecordQuery:
    """Everything a list request asks for besides the page itself."""

    filter: Filter | None = None
    search: Q | None = None
    ordering: list = field(default_factory=lambda: compile_orderby(""))
    mappings: list = field(default_factory=list)


def compile_query(params) -> RecordQuery:
    """Compile the query parameters of a list request (a ``QueryDict``)."""
    filter_text = params.get("$filter", "").strip()
    return RecordQuery(
        filter=compile_filter(filter_text) if filter_text else None,
        search=compile_search(params.get("$search", "").strip()),
        ordering=compile_orderby(params.get("$orderby", "").strip()),
        mappings=parse_mappings(params.getlist("mappings[]")),
    )
