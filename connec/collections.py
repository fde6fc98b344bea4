"""The collections Connec! serves, each described by a JSON Schema.

Built-in collections ship their schema in ``schemas/``. Staff may add fields to them
and define new collections in the admin (``CollectionDefinition``); the latest version
of each definition is read from the database and cached in the process. Every caller
asks through ``names``, ``exists``, ``schema`` and ``validator``, so a collection
defined without code is served, validated and shared like a built-in one.
"""

import copy
import datetime
import json
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from django.db import connection
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
SHARED = "shared"

# How long a process trusts its copy of the staff definitions before asking the
# database whether they changed. A change made in this process is seen at once
# (``invalidate``); the other web and worker processes see it within this delay.
FRESHNESS_SECONDS = 2.0

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
def shared_schema() -> dict:
    return json.loads((SCHEMA_DIR / f"{SHARED}.json").read_text())


@cache
def _registry():
    shared = shared_schema()
    return Registry().with_resource(shared["$id"], Resource.from_contents(shared))


@cache
def builtin_names() -> tuple[str, ...]:
    return tuple(
        sorted(path.stem for path in SCHEMA_DIR.glob("*.json") if path.stem != SHARED)
    )


def is_builtin(collection: str) -> bool:
    return collection in builtin_names()


@cache
def builtin_schema(collection: str) -> dict:
    return json.loads((SCHEMA_DIR / f"{collection}.json").read_text())


def extended_schema(base: dict, extension: dict) -> dict:
    """Return ``base`` with the fields and required names of ``extension`` added."""
    combined = copy.deepcopy(base)
    combined["properties"] = {
        **combined.get("properties", {}),
        **extension.get("properties", {}),
    }
    required = list(combined.get("required", []))
    required += [name for name in extension.get("required", []) if name not in required]
    if required:
        combined["required"] = required
    return combined


def custom_schema(name: str, schema: dict) -> dict:
    """Return a custom collection's schema with the ``$id`` its own refs resolve in."""
    return {"$id": f"urn:connec:{name}", **schema}


def schema_validator(collection_schema: dict) -> Draft202012Validator:
    """Compile ``collection_schema``, which may refer to the shared definitions."""
    return Draft202012Validator(
        collection_schema, registry=_registry(), format_checker=format_checker
    )


def unresolvable_references(collection_schema: dict) -> list[str]:
    """Return the ``$ref`` values of the schema that point at nothing."""
    base = collection_schema.get("$id", "")
    resource = Resource.from_contents(
        collection_schema, default_specification=DRAFT202012
    )
    resolver = _registry().with_resource(base, resource).resolver(base_uri=base)
    missing = []
    for reference in _references(collection_schema):
        try:
            resolver.lookup(reference)
        except Unresolvable:
            missing.append(reference)
    return missing


def _references(value):
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "$ref" and isinstance(item, str):
                yield item
            else:
                yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


@dataclass
class _Catalogue:
    """The staff definitions in force, as this process last read them."""

    fingerprint: tuple
    # name -> (kind, version, schema) of the latest version.
    definitions: dict
    checked_at: float
    schemas: dict = field(default_factory=dict)
    validators: dict = field(default_factory=dict)


_catalogue: _Catalogue | None = None


def invalidate():
    """Make the next lookup ask the database whether the definitions changed."""
    if _catalogue is not None:
        _catalogue.checked_at = float("-inf")


def _fingerprint() -> tuple:
    # Versions are only ever added, and ids only grow, so the count and the highest
    # id change with every new version, and with a rolled-back one too.
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), max(id) FROM connec_collectiondefinition")
        return tuple(cursor.fetchone())


def _latest_definitions() -> dict:
    from .models import CollectionDefinition

    latest = (
        CollectionDefinition.objects.order_by("name", "-version")
        .distinct("name")
        .values_list("name", "kind", "version", "schema")
    )
    return {name: (kind, version, schema) for name, kind, version, schema in latest}


def _current() -> _Catalogue:
    global _catalogue
    now = time.monotonic()
    catalogue = _catalogue
    if catalogue is not None and now - catalogue.checked_at < FRESHNESS_SECONDS:
        return catalogue

    fingerprint = _fingerprint()
    if catalogue is None or catalogue.fingerprint != fingerprint:
        catalogue = _Catalogue(fingerprint, _latest_definitions(), now)
    catalogue.checked_at = now
    _catalogue = catalogue
    return catalogue


def definition(collection: str) -> tuple[str, int, dict] | None:
    """Return ``(kind, version, schema)`` of the staff definition in force, if any."""
    return _current().definitions.get(collection)


def names() -> tuple[str, ...]:
    custom = (
        name
        for name, (kind, _version, _schema) in _current().definitions.items()
        if kind == "custom"
    )
    return tuple(sorted({*builtin_names(), *custom}))


def exists(collection: str) -> bool:
    if is_builtin(collection):
        return True
    found = definition(collection)
    return found is not None and found[0] == "custom"


def schema(collection: str) -> dict:
    """Return the schema in force for ``collection``, custom fields included.

    The dictionary is shared by the whole process: callers must not change it.
    """
    catalogue = _current()
    if collection not in catalogue.schemas:
        found = catalogue.definitions.get(collection)
        if found is None:
            catalogue.schemas[collection] = builtin_schema(collection)
        elif found[0] == "custom":
            catalogue.schemas[collection] = custom_schema(collection, found[2])
        else:
            catalogue.schemas[collection] = extended_schema(
                builtin_schema(collection), found[2]
            )
    return catalogue.schemas[collection]


def validator(collection: str) -> Draft202012Validator:
    """Return the compiled validator of ``collection``; built once per definition."""
    catalogue = _current()
    if collection not in catalogue.validators:
        catalogue.validators[collection] = schema_validator(schema(collection))
    return catalogue.validators[collection]


def schema_document(collection: str, url: str) -> dict:
    """Return the schema as served to apps: self-contained, in the original shape.

    The original platform answered ``{"properties": {"<collection>": {"items":
    …}}}``. The record's schema keeps its ``$id`` and the shared definitions are
    bundled under ``$defs`` with theirs, so every ``$ref`` resolves by the rules of
    JSON Schema without another request.
    """
    record = copy.deepcopy(schema(collection))
    record.pop("$schema", None)
    shared = copy.deepcopy(shared_schema())
    shared.pop("$schema", None)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": url,
        "title": record.get("title", collection),
        "type": "object",
        "properties": {collection: {"type": "array", "items": record}},
        "$defs": {SHARED: shared},
    }
