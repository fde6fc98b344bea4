"""The collections Connec! serves, each described by a JSON Schema in the code."""

import datetime
import json
from functools import cache
from pathlib import Path

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
SHARED = "shared"

format_checker = FormatChecker(formats=())


@format_checker.checks("connec-date", raises=ValueError)
def _is_calendar_date(value):
    """Dates are a day (2026-11-20) or a moment (2026-11-20T10:00:00Z) that exists."""
    if not isinstance(value, str):
        return True
    if len(value) == 10:
        datetime.date.fromisoformat(value)
    else:
        datetime.datetime.fromisoformat(value)
    return True


@cache
def _registry():
    shared = json.loads((SCHEMA_DIR / f"{SHARED}.json").read_text())
    return Registry().with_resource(shared["$id"], Resource.from_contents(shared))


@cache
def names() -> tuple[str, ...]:
    return tuple(
        sorted(path.stem for path in SCHEMA_DIR.glob("*.json") if path.stem != SHARED)
    )


def exists(collection: str) -> bool:
    return collection in names()


@cache
def schema(collection: str) -> dict:
    return json.loads((SCHEMA_DIR / f"{collection}.json").read_text())


@cache
def validator(collection: str) -> Draft202012Validator:
    """Return the compiled validator of ``collection``; built once per process."""
    collection_schema = schema(collection)
    Draft202012Validator.check_schema(collection_schema)
    return Draft202012Validator(
        collection_schema, registry=_registry(), format_checker=format_checker
    )
