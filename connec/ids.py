"""The id scheme of Connec!: one Connec! id per record, and each app's own ids.

On the wire an id is the Connec! id as a string or, when the caller sends the header
``CONNEC-EXTERNAL-IDS: true``, an array of id objects ``{id, provider, realm}``: the
Connec! one (provider ``connec``, realm the organisation's uid) followed by the ids
that apps wrote back for the record. References to other records (``person_id``,
``lines[].item_id`` …) take the same two forms.

Documents store references as Connec! id strings; apps' ids live in ``ExternalId``
rows. A write may name a record by any of its ids and is resolved here, before it is
stored; what cannot be resolved is refused with the field that names it.
"""

import copy
import uuid
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.db import IntegrityError, transaction
from django.db.models import Q

from maestrano.errors import ApiError, ApiErrors

from . import collections, errors
from .models import ExternalId, Record

CONNEC_PROVIDER = "connec"
HEADER = "CONNEC-EXTERNAL-IDS"

# Every collection schema marks a reference with the shared definition of that name.
_REFERENCE_DEFINITION = "reference"
_ITEMS = "*"


@dataclass(frozen=True)
class AppId:
    """One app's id for a record: ``{"id": external_id, "provider", "realm"}``."""

    provider: str
    realm: str
    external_id: str

    def as_json(self):
        return {"id": self.external_id, "provider": self.provider, "realm": self.realm}


def external_ids_requested(headers) -> bool:
    return headers.get(HEADER, "").strip().lower() == "true"


# Which fields are references


def reference_paths(collection: str) -> list[tuple[str, ...]]:
    """Return the paths of the record references in ``collection``'s schema.

    A path is a tuple of keys where ``"*"`` stands for every item of an array, such
    as ``("lines", "*", "item_id")``. A field is a reference when the schema gives it
    the shared ``reference`` definition. An ``id`` inside an object is a reference
    only when the object requires it (``linked_transactions[].id`` points at a
    record); an optional one is the id of a line or a note, kept as the app sent it.
    """
    schema = collections.schema(collection)
    cached = _paths_cache.get(collection)
    # The catalogue hands out the same schema object until a definition changes.
    if cached is None or cached[0] is not schema:
        cached = (schema, sorted(set(_walk(schema, (), schema, frozenset()))))
        _paths_cache[collection] = cached
    return cached[1]


_paths_cache: dict[str, tuple[dict, list]] = {}


def _definition(ref, own_schema):
    """Return the name, the definition and the schema holding it, of ``ref``."""
    base, _, fragment = ref.partition("#")
    name = fragment.rpartition("/")[2]
    home = collections.shared_schema() if base else own_schema
    return name, home.get("$defs", {}).get(name), home


def _walk(node, path, own_schema, followed):
    if not isinstance(node, dict):
        return
    if "$ref" in node:
        name, definition, home = _definition(node["$ref"], own_schema)
        if name == _REFERENCE_DEFINITION:
            yield path
            return
        if definition is not None and name not in followed:
            yield from _walk(definition, path, home, followed | {name})

    required = set(node.get("required", ()))
    for key, child in node.get("properties", {}).items():
        if key == "id" and "id" not in required:
            continue
        yield from _walk(child, (*path, key), own_schema, followed)
    if "items" in node:
        yield from _walk(node["items"], (*path, _ITEMS), own_schema, followed)
    for combination in ("allOf", "anyOf", "oneOf"):
        for child in node.get(combination, ()):
            yield from _walk(child, path, own_schema, followed)


def _target_collection(path):
    """Guess the collection a reference points at from its name.

    ``item_id`` points at items and ``sale_tax_code_id`` at tax_codes: the longest
    ending of the name that is a collection wins. ``None`` when no ending is one
    (``assignee_id``, ``linked_transactions[].id``): any collection then.
    """
    words = path[-1].removesuffix("_id").split("_")
    for start in range(len(words)):
        stem = "_".join(words[start:])
        plural = {"person": "people", "company": "company"}.get(stem)
        if plural is None:
            plural = f"{stem[:-1]}ies" if stem.endswith("y") else f"{stem}s"
        if collections.exists(plural):
            return plural
    return None


@dataclass
class _Slot:
    """One reference found in a document: where it is and what it says."""

    pointer: str
    container: dict
    key: str
    value: object
    target: str | None


def _slots(collection, document):
    for path in reference_paths(collection):
        yield from _slots_at(document, path, [collection], path)


def _slots_at(node, path, pointer, full_path):
    key, rest = path[0], path[1:]
    if key == _ITEMS:
        if isinstance(node, list):
            for index, item in enumerate(node):
                yield from _slots_at(item, rest, [*pointer, str(index)], full_path)
        return
    if not isinstance(node, dict) or node.get(key) is None:
        return
    if rest:
        yield from _slots_at(node[key], rest, [*pointer, key], full_path)
        return
    yield _Slot(
        pointer="/" + "/".join([*pointer, key]),
        container=node,
        key=key,
        value=node[key],
        target=_target_collection(full_path),
    )


# Writes: the record's own ids and its references


def own_ids_parse(
    collection: str, value, *, app_instance, record: Record | None
) -> list[AppId]:
    """Return the apps' ids a write gives for the record it writes.

    A Connec! id (a string, or the ``connec`` entry of an array) names the record
    itself: refused on create, and it must match the address on update.
    """
    if value is None or value == []:
        return []
    pointer = f"/{collection}/id"
    if isinstance(value, str):
        _check_connec_id(collection, pointer, value, record)
        return []
    if not isinstance(value, list):
        raise errors.invalid_field(
            pointer, f"{collection}.id is a Connec! id or an array of id objects."
        )

    app_ids = []
    for index, entry in enumerate(value):
        entry_pointer = f"{pointer}/{index}"
        app_id = _id_object(entry, entry_pointer, app_instance)
        if app_id is None:
            _check_connec_id(collection, entry_pointer, entry["id"], record)
        else:
            _check_storable(app_id, entry_pointer)
            app_ids.append(app_id)
    return app_ids


def _check_storable(app_id, pointer):
    """Refuse an app's id longer than the column of ``ExternalId`` that holds it."""
    for name, column, value in (
        ("id", "external_id", app_id.external_id),
        ("provider", "provider", app_id.provider),
        ("realm", "realm", app_id.realm),
    ):
        longest = ExternalId._meta.get_field(column).max_length
        if len(value) > longest:
            raise errors.invalid_field(
                f"{pointer}/{name}",
                f"An app's {name} is at most {longest} characters; this one has "
                f"{len(value)}.",
            )


def _check_connec_id(collection, pointer, given, record):
    if record is None:
        raise errors.id_on_create(collection)
    if given != str(record.id):
        raise errors.id_mismatch(pointer, given, record.id)


def _id_object(entry, pointer, app_instance) -> AppId | None:
    """Read one ``{id, provider, realm}``; ``None`` for the Connec! entry."""
    fields = ("id", "provider", "realm")
    if (
        not isinstance(entry, dict)
        or not isinstance(entry.get("id"), str)
        or not entry["id"]
        or any(not isinstance(entry.get(name, ""), str) for name in fields)
    ):
        raise errors.invalid_field(
            pointer, "An id object is {id, provider, realm} with string values."
        )
    if entry.get("provider") == CONNEC_PROVIDER:
        return None

    provider = entry.get("provider") or (app_instance.app.nid if app_instance else "")
    realm = entry.get("realm") or (app_instance.uid if app_instance else "")
    if not provider or not realm:
        raise errors.invalid_field(
            pointer, "An id written without an app must name its provider and realm."
        )
    return AppId(provider=provider, realm=realm, external_id=entry["id"])


def references_resolve(
    *, organization, collection: str, document: dict, app_instance
) -> dict:
    """Return ``document`` with every reference replaced by the Connec! id it means.

    Raise every reference that names no record of the organisation at once.
    """
    if not reference_paths(collection) or not any(_slots(collection, document)):
        return document
    # The caller's document may share lists with the request body: work on a copy.
    document = copy.deepcopy(document)
    slots = list(_slots(collection, document))

    wanted = {slot.pointer: _reference_ids(slot, app_instance) for slot in slots}
    records = _records_by_connec_id(organization, wanted.values())
    app_records = _records_by_app_id(organization, wanted.values())

    unknown = []
    for slot in slots:
        connec_ids, app_ids = wanted[slot.pointer]
        found = _first_found(slot.target, connec_ids, app_ids, records, app_records)
        if found is None:
            unknown.append(errors.reference_unknown(slot.pointer, _shown(slot.value)))
        else:
            slot.container[slot.key] = found
    if unknown:
        raise ApiErrors(unknown)
    return document


def referenced_app_ids(collection: str, document: dict, *, app_instance) -> set:
    """Return the apps' ids (``AppId``) that the document's references name.

    References by Connec! id are left out. A reference that cannot be read is
    left to ``references_resolve`` to refuse.
    """
    found = set()
    for slot in _slots(collection, document):
        if isinstance(slot.value, str):
            continue
        try:
            found.update(_reference_ids(slot, app_instance)[1])
        except ApiError:
            continue
    return found


def _reference_ids(slot, app_instance):
    """Split a reference into the Connec! ids and the app ids it names."""
    if isinstance(slot.value, str):
        return [slot.value], []
    connec_ids, app_ids = [], []
    for index, entry in enumerate(slot.value):
        app_id = _id_object(entry, f"{slot.pointer}/{index}", app_instance)
        if app_id is None:
            connec_ids.append(entry["id"])
        else:
            app_ids.append(app_id)
    return connec_ids, app_ids


def _records_by_connec_id(organization, wanted):
    ids = set()
    for connec_ids, _ in wanted:
        for given in connec_ids:
            try:
                ids.add(uuid.UUID(given))
            except ValueError:
                continue
    rows = Record.objects.filter(organization=organization, pk__in=ids)
    return {
        str(pk): collection for pk, collection in rows.values_list("pk", "collection")
    }


def _records_by_app_id(organization, wanted):
    app_ids = {app_id for _, app_ids in wanted for app_id in app_ids}
    if not app_ids:
        return {}
    condition = reduce(
        or_,
        (
            Q(
                provider=app_id.provider,
                realm=app_id.realm,
                external_id=app_id.external_id,
            )
            for app_id in app_ids
        ),
    )
    rows = ExternalId.objects.filter(condition, organization=organization)
    found = {}
    for row in rows.values("provider", "realm", "external_id", "collection", "record"):
        app_id = AppId(row["provider"], row["realm"], row["external_id"])
        found.setdefault(app_id, []).append((row["collection"], str(row["record"])))
    return found


def _first_found(target, connec_ids, app_ids, records, app_records):
    for given in connec_ids:
        if given in records and target in (None, records[given]):
            return given
    for app_id in app_ids:
        candidates = [
            record_id
            for collection, record_id in app_records.get(app_id, ())
            if target in (None, collection)
        ]
        # Apps number each collection on its own: without a known target, an id
        # found in two collections says nothing.
        if len(candidates) == 1:
            return candidates[0]
    return None


def _shown(value):
    if isinstance(value, str):
        return repr(value)
    return ", ".join(
        f"{entry.get('provider', 'this app')} id {entry.get('id')!r}" for entry in value
    )


def external_ids_attach(*, record: Record, app_ids: list[AppId], app_instance) -> bool:
    """Store the apps' ids of ``record``; return whether any was new or changed.

    One id per provider and realm: an app writing back another id for its account
    replaces the one it wrote before.
    """
    changed = False
    for index, app_id in enumerate(app_ids):
        try:
            with transaction.atomic():
                changed |= _external_id_store(record, app_id, app_instance)
        except IntegrityError:
            raise errors.external_id_taken(
                f"/{record.collection}/id/{index}",
                app_id.provider,
                app_id.realm,
                app_id.external_id,
            ) from None
    return changed


def _external_id_store(record, app_id, app_instance):
    existing = ExternalId.objects.filter(
        record=record, provider=app_id.provider, realm=app_id.realm
    ).first()
    if existing is not None and existing.external_id == app_id.external_id:
        return False
    if existing is not None:
        existing.external_id = app_id.external_id
        existing.app_instance = app_instance
        existing.save(update_fields=["external_id", "app_instance"])
        return True
    ExternalId.objects.create(
        record=record,
        organization_id=record.organization_id,
        collection=record.collection,
        provider=app_id.provider,
        realm=app_id.realm,
        external_id=app_id.external_id,
        app_instance=app_instance,
    )
    return True


# Reads: ids as id arrays


def bodies_expand(bodies: list[dict], *, collection: str, channel_id: str) -> None:
    """Turn the ids and references of wire ``bodies`` into id arrays, in place.

    One query fetches the apps' ids of every record the bodies name.
    """
    slots = [list(_slots(collection, body)) for body in bodies]
    named = {body["id"] for body in bodies}
    named.update(
        slot.value
        for body_slots in slots
        for slot in body_slots
        if isinstance(slot.value, str)
    )
    app_ids = _app_ids_of(named)

    def id_array(connec_id):
        connec = {"id": connec_id, "provider": CONNEC_PROVIDER, "realm": channel_id}
        return [connec, *(app_id.as_json() for app_id in app_ids.get(connec_id, ()))]

    for body, body_slots in zip(bodies, slots, strict=True):
        body["id"] = id_array(body["id"])
        for slot in body_slots:
            if isinstance(slot.value, str):
                slot.container[slot.key] = id_array(slot.value)


def _app_ids_of(connec_ids):
    record_ids = set()
    for connec_id in connec_ids:
        if isinstance(connec_id, str):
            try:
                record_ids.add(uuid.UUID(connec_id))
            except ValueError:
                continue
    rows = ExternalId.objects.filter(record__in=record_ids).order_by("created_at", "pk")
    found = {}
    for record_id, provider, realm, external_id in rows.values_list(
        "record", "provider", "realm", "external_id"
    ):
        found.setdefault(str(record_id), []).append(AppId(provider, realm, external_id))
    return found
