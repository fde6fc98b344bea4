"""Collections defined without code: staff write a JSON Schema, Connec! serves it.

A definition is checked before it is saved: it must be a valid JSON Schema whose
references resolve, and every record already stored in the collection must still be
valid under it, so a change never strands stored data. Each save is a new version;
older versions stay, and every save is audited.
"""

import logging
import re

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from hub.audit import audit_record

from . import collections
from .models import CollectionDefinition, Record

logger = logging.getLogger(__name__)

NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,63}")

# Names the original platform gave to collections with a behaviour of their own,
# the schemas' shared definitions and the schema address: staff may not take them.
RESERVED_NAMES = frozenset(
    {"contacts", "transaction_logs", "connector_syncs", "json_schema", "shared"}
)

# What custom fields may say; anything else would change the built-in collection's
# own rules rather than add to them.
EXTENSION_KEYWORDS = frozenset(
    {"$schema", "$comment", "title", "description", "type", "properties", "required"}
)

# Refusals about the name rather than the schema.
NAME_ERRORS = frozenset(
    {
        "definition_invalid_name",
        "definition_reserved_name",
        "definition_name_built_in",
        "definition_not_built_in",
    }
)

# Stored records are read in chunks of this many while a new version is checked.
CHECK_CHUNK = 2000


def _refuse(code, message):
    raise ValidationError(message, code=code)


def _check_name(name, kind):
    if not NAME_PATTERN.fullmatch(name or ""):
        _refuse(
            "definition_invalid_name",
            "A collection name is lower-case letters, digits and underscores, "
            "starting with a letter, at most 64 characters (such as loyalty_cards).",
        )
    if name in RESERVED_NAMES:
        _refuse("definition_reserved_name", f"{name!r} is reserved by Connec!.")
    if kind == CollectionDefinition.Kind.CUSTOM and collections.is_builtin(name):
        _refuse(
            "definition_name_built_in",
            f"{name!r} is a built-in collection; to add fields to it, choose "
            "'Custom fields of a built-in collection'.",
        )
    if kind == CollectionDefinition.Kind.EXTENSION and not collections.is_builtin(name):
        _refuse(
            "definition_not_built_in",
            f"{name!r} is not a built-in collection, so it has no fields to add to.",
        )


def _check_extension(name, schema):
    unknown = sorted(set(schema) - EXTENSION_KEYWORDS)
    if unknown:
        _refuse(
            "definition_extension_keyword",
            f"Custom fields may only give {', '.join(sorted(EXTENSION_KEYWORDS))}; "
            f"remove {', '.join(unknown)}.",
        )
    if schema.get("type", "object") != "object":
        _refuse("definition_not_object", 'The "type" of custom fields is "object".')
    built_in = collections.builtin_schema(name).get("properties", {})
    clashes = sorted(set(schema.get("properties", {})) & set(built_in))
    if clashes:
        _refuse(
            "definition_field_built_in",
            f"{', '.join(clashes)} already belong to {name}; custom fields need "
            "names of their own.",
        )


def _collection_schema(name, kind, schema):
    _check_name(name, kind)
    if not isinstance(schema, dict):
        _refuse("definition_not_object", "The schema must be a JSON object.")
    if kind == CollectionDefinition.Kind.EXTENSION:
        _check_extension(name, schema)
        collection_schema = collections.extended_schema(
            collections.builtin_schema(name), schema
        )
    else:
        if schema.get("type") != "object":
            _refuse(
                "definition_not_object",
                'A record is a JSON object: the schema needs "type": "object".',
            )
        collection_schema = collections.custom_schema(name, schema)

    try:
        Draft202012Validator.check_schema(collection_schema)
    except SchemaError as error:
        where = "/".join(str(part) for part in error.absolute_path) or "the top"
        _refuse(
            "definition_invalid_schema",
            f"This is not a valid JSON Schema (draft 2020-12): at {where}, "
            f"{error.message}.",
        )
    missing = collections.unresolvable_references(collection_schema)
    if missing:
        _refuse(
            "definition_unknown_reference",
            f"These references point at nothing: {', '.join(missing)}. The shared "
            "definitions are urn:connec:shared#/$defs/<name>.",
        )
    return collection_schema


def _check_stored_records(name, collection_schema):
    validator = collections.schema_validator(collection_schema)
    broken = 0
    example = None
    documents = (
        Record.objects.filter(collection=name)
        .order_by("created_at", "id")
        .values_list("id", "document")
    )
    for record_id, document in documents.iterator(chunk_size=CHECK_CHUNK):
        error = next(validator.iter_errors(document), None)
        if error is None:
            continue
        broken += 1
        if example is None:
            pointer = "/" + "/".join(str(part) for part in error.absolute_path)
            example = f"record {record_id} at {pointer}: {error.message}"
    if broken:
        _refuse(
            "definition_breaks_records",
            f"{broken} stored {name} record{'s' if broken != 1 else ''} would no "
            f"longer be valid, for example {example}. Nothing was saved: loosen the "
            "schema, or correct those records first.",
        )


def definition_check(*, name: str, kind: str, schema) -> dict:
    """Return the collection's schema as ``schema`` would make it, or refuse it.

    Raises ``ValidationError`` with a stable code and a message for staff when the
    schema is invalid or records already stored would not satisfy it.
    """
    collection_schema = _collection_schema(name, kind, schema)
    _check_stored_records(name, collection_schema)
    return collection_schema


@transaction.atomic
def definition_create(
    *, name: str, kind: str, schema: dict, actor
) -> CollectionDefinition:
    """Save ``schema`` as the next version of the collection ``name``.

    Refuses (``ValidationError``) a schema that is invalid or that records already
    stored in the collection would not satisfy.

    Limitation: a record written by another process while the stored records are
    being checked is validated against the previous version, so it can slip past
    the check; the collection's writers are not paused for it.
    """
    # Two staff saving the same collection at once would both take the next number.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext(%s))", [f"connec.definition:{name}"]
        )
    collections.invalidate()

    definition_check(name=name, kind=kind, schema=schema)

    latest = collections.definition(name)
    created = CollectionDefinition.objects.create(
        name=name,
        kind=kind,
        version=latest[1] + 1 if latest else 1,
        schema=schema,
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action="connec.definition.create",
        target=created,
        data={"name": name, "kind": kind, "version": created.version},
    )
    collections.invalidate()
    transaction.on_commit(collections.invalidate)
    logger.info(
        "collection definition saved name=%s version=%s kind=%s",
        name,
        created.version,
        kind,
    )
    return created
