"""Writes of Connec!: every change to a record goes through here.

One call is one database transaction: the record, its history row (with the app
instance and the transaction it belongs to) and the webhook outbox rows for the other
apps are committed together or not at all.
"""

import functools
import hashlib
import math
import uuid
from dataclasses import dataclass

import jsonschema_rs
from django.db import connection, transaction
from django.utils import timezone

from hub.models import AppInstance
from maestrano import hotsql, text
from maestrano.errors import ApiErrors

from . import bulk, collections, errors, ids, sharing, webhooks
from .history import current_write_context
from .models import Record
from .representation import OWNED_KEYS

# Write options travel inside the document in the original API; they are not data.
_OPTIONS_KEY = "opts"

# Deeper documents are refused: nothing in any collection needs more, and every app
# that receives the record would have to parse it.
MAX_DEPTH = 32


def _pointer(collection, path):
    return "/" + "/".join([collection, *(str(part) for part in path)])


def _unstorable(value, path, depth=0):
    """Return ``(path, reason)`` for the first value PostgreSQL's jsonb cannot hold."""
    if depth > MAX_DEPTH:
        return path, f"is nested more than {MAX_DEPTH} levels deep"
    if isinstance(value, float) and not math.isfinite(value):
        return path, "is not a finite number"
    if isinstance(value, str) and text.is_unstorable(value):
        return path, "holds a NUL character or an unpaired UTF-16 surrogate"
    if isinstance(value, dict):
        for key, item in value.items():
            problem = _unstorable(key, path, depth) or _unstorable(
                item, [*path, key], depth + 1
            )
            if problem:
                return problem
    if isinstance(value, list):
        for index, item in enumerate(value):
            problem = _unstorable(item, [*path, index], depth + 1)
            if problem:
                return problem
    return None


def document_validate(collection: str, attributes: dict) -> dict:
    """Return the storable document, or raise every field error found at once."""
    document = {
        key: value
        for key, value in attributes.items()
        if key not in OWNED_KEYS and key != _OPTIONS_KEY
    }
    problem = _unstorable(document, [])
    if problem:
        path, reason = problem
        where = ".".join(map(str, [collection, *path]))
        raise errors.invalid_field(_pointer(collection, path), f"{where} {reason}.")
    if _quickly_valid(collection, document):
        return document
    found = sorted(
        collections.validator(collection).iter_errors(document),
        key=lambda error: list(map(str, error.absolute_path)),
    )
    if found:
        raise ApiErrors(
            [
                errors.invalid_field(
                    _pointer(collection, error.absolute_path),
                    _message(collection, error),
                )
                for error in found
            ]
        )
    return document


def _quickly_valid(collection, document) -> bool:
    """Tell whether the compiled (Rust) validator finds the document valid.

    Checking a valid document costs ``jsonschema`` about a third of a
    millisecond, ``jsonschema-rs`` a hundredth of that. Only its "valid" is
    trusted: anything else goes to ``jsonschema``, which words the errors apps
    receive. It asserts every format it knows, so it is never more lenient
    there. Limitation: ``pattern`` runs on Rust's regex engine, which reads
    some constructs differently from Python's ``re`` (``$`` before a final
    newline, for one, where it is stricter); a staff-defined pattern relying on
    such a difference would be checked the Rust way.
    """
    schema = collections.schema(collection)
    cached = _quick_validators.get(collection)
    # The catalogue hands out the same schema object until a definition changes.
    if cached is None or cached[0] is not schema:
        try:
            # The draft jsonschema applies, whatever ``$schema`` says; nothing is
            # fetched from the network.
            compiled = jsonschema_rs.Draft202012Validator(
                schema,
                registry=_quick_registry(),
                formats={"connec-date": _is_calendar_date},
                validate_formats=True,
                offline=True,
            )
        except Exception:
            # A schema it cannot compile is left to jsonschema.
            compiled = None
        cached = (schema, compiled)
        _quick_validators[collection] = cached
    if cached[1] is None:
        return False
    try:
        return cached[1].is_valid(document)
    except Exception:
        # A value it cannot read is left to jsonschema.
        return False


_quick_validators: dict[str, tuple] = {}


@functools.cache
def _quick_registry():
    shared = collections.shared_schema()
    return jsonschema_rs.Registry([(shared["$id"], shared)])


def _is_calendar_date(value) -> bool:
    return collections.format_checker.conforms(value, "connec-date")


def _message(collection, error):
    where = ".".join(str(part) for part in error.absolute_path)
    if error.validator == "required":
        return f"{collection}: {error.message}"
    return f"{collection}.{where}: {error.message}" if where else error.message


def _save(record, app_instance, user):
    record._transaction_id = current_write_context().transaction_id or uuid.uuid4()
    record._app_instance = app_instance
    # The history row's author, as django-simple-history names it.
    record._history_user = user
    created = record._state.adding
    if created:
        hotsql.insert_rows([record])
    else:
        record.skip_history_when_saving = True
        try:
            record.save()
        finally:
            del record.skip_history_when_saving
    bulk.history_create([record], history_type="+" if created else "~")
    webhooks.deliveries_create(record=record, origin=app_instance)


@dataclass(frozen=True)
class WriteOptions:
    """The ``opts`` of a write (reference §2.6); never stored in the document.

    ``matching_fields``: on create, update the record whose values at these dotted
    paths equal the new one's instead ("smart merge"). ``sparse``: with ``true``,
    arrays of objects carrying an ``id`` (lines, notes) are merged item by item and
    items left out are kept; otherwise an array sent replaces the stored one, so
    lines left out are deleted (the original's ``sparse: false``).
    ``attach_to_organization``: link the record's ``organization_id`` to the
    organisation record of that name, created if there is none.
    """

    matching_fields: tuple[str, ...] = ()
    sparse: bool = False
    attach_to_organization: str | None = None


def write_options(collection: str, attributes: dict) -> WriteOptions:
    """Read and check the ``opts`` of ``attributes``."""
    opts = attributes.get(_OPTIONS_KEY)
    pointer = f"/{collection}/{_OPTIONS_KEY}"
    if opts is None:
        return WriteOptions()
    if not isinstance(opts, dict):
        raise errors.invalid_option(pointer, "opts must be an object.")

    matching = opts.get("matching_fields", [])
    if not isinstance(matching, list) or not all(
        isinstance(path, str) and path for path in matching
    ):
        raise errors.invalid_option(
            f"{pointer}/matching_fields",
            'matching_fields is a list of field paths such as "email.address".',
        )
    sparse = opts.get("sparse", False)
    if not isinstance(sparse, bool):
        raise errors.invalid_option(f"{pointer}/sparse", "sparse is true or false.")
    attach = opts.get("attach_to_organization")
    if attach is not None and (not isinstance(attach, str) or not attach.strip()):
        raise errors.invalid_option(
            f"{pointer}/attach_to_organization",
            "attach_to_organization is the name of an organisation.",
        )
    return WriteOptions(tuple(matching), sparse, attach.strip() if attach else None)


def _changes(attributes):
    return {
        key: value
        for key, value in attributes.items()
        if key not in OWNED_KEYS and key != _OPTIONS_KEY
    }


def record_post(
    *,
    app_instance: AppInstance | None,
    collection: str,
    attributes: dict,
    organization=None,
    user=None,
) -> tuple[Record, bool]:
    """Create a record, or smart-merge it into the one ``opts.matching_fields`` finds.

    Return the record and whether it was created (201) rather than merged (200).
    """
    if organization is None:
        organization = app_instance.organization
    options = write_options(collection, attributes)
    if not options.matching_fields:
        return record_create(
            app_instance=app_instance,
            organization=organization,
            collection=collection,
            attributes=attributes,
            user=user,
        ), True

    ids.own_ids_parse(
        collection, attributes.get("id"), app_instance=app_instance, record=None
    )
    values = _values_at(_changes(attributes), options.matching_fields)
    with transaction.atomic():
        if values is not None:
            match = _record_matching(organization, collection, values)
            if match is not None:
                record = record_update(
                    app_instance=app_instance,
                    record=match,
                    attributes=attributes,
                    user=user,
                )
                return record, False
        record = record_create(
            app_instance=app_instance,
            organization=organization,
            collection=collection,
            attributes=attributes,
            user=user,
        )
    return record, True


_MISSING = object()


def _values_at(document, paths):
    """Return ``{path: value}`` for the matching paths, or None if one is empty."""
    values = {}
    for path in paths:
        value = document
        for key in path.split("."):
            value = value.get(key, _MISSING) if isinstance(value, dict) else _MISSING
        if value is _MISSING or value is None or value == "":
            return None
        values[path] = value
    return values


def _record_matching(organization, collection, values):
    # Two apps posting the same person at once must not both create it: the lock
    # serialises the writers of these values until the first one commits.
    digest = hashlib.sha256(
        repr((organization.pk, collection, sorted(values.items()))).encode()
    ).digest()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s)",
            [int.from_bytes(digest[:8], "big", signed=True)],
        )

    contained = {}
    for path, value in values.items():
        node = contained
        *parents, last = path.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    # jsonb containment also matches a list holding the value; the exact check
    # below keeps equality.
    candidates = Record.objects.filter(
        organization=organization,
        collection=collection,
        status=Record.Status.ACTIVE,
        document__contains=contained,
    ).order_by("created_at", "id")
    for candidate in candidates:
        if _values_at(candidate.document, values) == values:
            return candidate
    return None


def record_create(
    *,
    app_instance: AppInstance | None,
    collection: str,
    attributes: dict,
    organization=None,
    user=None,
) -> Record:
    """Store a new record written by ``app_instance`` and notify the other apps.

    A person writing without an app (``app_instance=None``) names the
    ``organization``, and every subscribed app is notified. The apps' ids in
    ``attributes["id"]`` are kept, and references are resolved to Connec! ids.
    """
    if organization is None:
        organization = app_instance.organization
    options = write_options(collection, attributes)
    app_ids = ids.own_ids_parse(
        collection, attributes.get("id"), app_instance=app_instance, record=None
    )
    document = document_validate(collection, attributes)

    with transaction.atomic():
        document = _document_link(
            organization, collection, document, options, app_instance, user
        )
        # Limitation: the time is taken before the commit, so two writers can commit
        # in the other order than their times; a poller asking "updated_at gt T"
        # right at that moment can miss the earlier one. Pollers should overlap
        # their window by a few seconds until Connec! offers a commit-ordered cursor.
        now = timezone.now()
        record = Record(
            organization=organization,
            collection=collection,
            document=document,
            created_by=app_instance,
            created_at=now,
            updated_at=now,
        )
        _save(record, app_instance, user)
        ids.external_ids_attach(
            record=record, app_ids=app_ids, app_instance=app_instance
        )
    return record


def _document_link(organization, collection, document, options, app_instance, user):
    """Attach the organisation the options name, then resolve every reference."""
    if options.attach_to_organization and not document.get("organization_id"):
        document["organization_id"] = str(
            _organization_record(
                organization, options.attach_to_organization, app_instance, user
            ).id
        )
    return ids.references_resolve(
        organization=organization,
        collection=collection,
        document=document,
        app_instance=app_instance,
    )


def _organization_record(organization, name, app_instance, user):
    found = (
        Record.objects.filter(
            organization=organization,
            collection="organizations",
            status=Record.Status.ACTIVE,
            document__name=name,
        )
        .order_by("created_at", "id")
        .first()
    )
    if found is not None:
        return found
    return record_create(
        app_instance=app_instance,
        organization=organization,
        collection="organizations",
        attributes={"name": name},
        user=user,
    )


def document_merge(current: dict, changes: dict, *, sparse: bool = False) -> dict:
    """Return ``current`` updated with ``changes``, as a PUT applies them.

    Objects merge key by key at every depth; ``null`` removes the key; arrays
    replace the stored array, except that with ``sparse`` arrays of objects with
    an ``id`` merge item by item (see ``WriteOptions``).
    """
    merged = dict(current)
    for key, value in changes.items():
        stored = merged.get(key)
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(stored, dict):
            merged[key] = document_merge(stored, value, sparse=sparse)
        elif sparse and isinstance(value, list) and isinstance(stored, list):
            merged[key] = _items_merge(stored, value)
        else:
            merged[key] = value
    return merged


def _items_merge(stored, changes):
    items = list(stored)
    for change in changes:
        position = _item_position(items, change)
        if position is None:
            items.append(change)
        else:
            items[position] = document_merge(items[position], change, sparse=True)
    return items


def _item_position(items, change):
    if not isinstance(change, dict) or change.get("id") in (None, "", []):
        return None
    keys = _item_keys(change["id"])
    for position, item in enumerate(items):
        if isinstance(item, dict) and keys & _item_keys(item.get("id")):
            return position
    return None


def _item_keys(item_id):
    """Every name of a line or note: its id string, or each of its id objects."""
    if isinstance(item_id, str):
        return {(ids.CONNEC_PROVIDER, "", item_id)}
    if isinstance(item_id, list):
        keys = (
            (entry.get("provider", ""), entry.get("realm", ""), entry.get("id"))
            for entry in item_id
            if isinstance(entry, dict)
        )
        # Anything but strings names no line; the schema refuses it after the merge.
        return {key for key in keys if all(isinstance(part, str) for part in key)}
    return set()


def record_update(
    *, app_instance: AppInstance | None, record: Record, attributes: dict, user=None
) -> Record:
    """Merge ``attributes`` into the record's document and notify the other apps.

    Keys absent from ``attributes`` keep their value, as in the original API (see
    ``document_merge``). ``"status": "ARCHIVED"`` archives the record and an empty
    status restores it, as the Connec! UI does. Apps' ids in ``attributes["id"]``
    are added to the record's.
    """
    options = write_options(record.collection, attributes)
    with transaction.atomic():
        # Lock the row so that two concurrent partial updates cannot lose each other.
        record = Record.objects.select_for_update().get(pk=record.pk)
        sharing.pull_check(record=record, app_instance=app_instance)
        app_ids = ids.own_ids_parse(
            record.collection,
            attributes.get("id"),
            app_instance=app_instance,
            record=record,
        )
        changes = _changes(attributes)
        status = _status_after(record, changes)
        merged = document_merge(record.document, changes, sparse=options.sparse)
        document = document_validate(record.collection, merged)
        document = _document_link(
            record.organization,
            record.collection,
            document,
            options,
            app_instance,
            user,
        )
        ids.external_ids_attach(
            record=record, app_ids=app_ids, app_instance=app_instance
        )
        # Nothing changed: no new version, and no echo to the other apps (two apps
        # writing back what they receive would otherwise ping-pong for ever). Ids
        # written back alone are not news to the other apps either.
        if document == record.document and status == record.status:
            return record

        record.document = document
        record.status = status
        record.updated_at = timezone.now()
        _save(record, app_instance, user)
    return record


def _status_after(record, changes):
    """Return the record's status after ``changes``, taking the archive flag out.

    The document keeps its own status (an archived invoice stays PAID underneath);
    the wire shows ARCHIVED over it (see ``record_json``).
    """
    if "status" not in changes:
        return record.status
    if changes["status"] == Record.Status.ARCHIVED:
        del changes["status"]
        return Record.Status.ARCHIVED
    if changes["status"] == "":
        # How the Connec! UI restores an archived record.
        del changes["status"]
    return Record.Status.ACTIVE


def record_archive(
    *, app_instance: AppInstance | None, record: Record, user=None
) -> Record:
    """Archive the record (what DELETE does): hidden from lists, kept with history."""
    return record_update(
        app_instance=app_instance,
        record=record,
        attributes={"status": Record.Status.ARCHIVED},
        user=user,
    )
