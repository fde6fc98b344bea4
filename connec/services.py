"""Writes of Connec!: every change to a record goes through here.

One call is one database transaction: the record, its history row (with the app
instance and the transaction it belongs to) and the webhook outbox rows for the other
apps are committed together or not at all.
"""

import math
import uuid

from django.db import transaction
from django.utils import timezone

from hub.models import AppInstance
from maestrano.errors import ApiErrors

from . import collections, errors, webhooks
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
    if isinstance(value, str):
        if "\x00" in value:
            return path, "contains a NUL character"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path, "is not valid Unicode text"
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


def _message(collection, error):
    where = ".".join(str(part) for part in error.absolute_path)
    if error.validator == "required":
        return f"{collection}: {error.message}"
    return f"{collection}.{where}: {error.message}" if where else error.message


def _save(record, app_instance, user):
    record._transaction_id = uuid.uuid4()
    record._app_instance = app_instance
    # django-simple-history writes this person into the history row's author.
    record._history_user = user
    record.save()
    webhooks.deliveries_create(record=record, origin=app_instance)


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
    ``organization``, and every subscribed app is notified.
    """
    if organization is None:
        organization = app_instance.organization
    if attributes.get("id"):
        raise errors.id_on_create(collection)
    document = document_validate(collection, attributes)

    with transaction.atomic():
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
    return record


def record_update(
    *, app_instance: AppInstance | None, record: Record, attributes: dict, user=None
) -> Record:
    """Merge ``attributes`` into the record's document and notify the other apps.

    Keys absent from ``attributes`` keep their value, as in the original API.
    """
    with transaction.atomic():
        # Lock the row so that two concurrent partial updates cannot lose each other.
        record = Record.objects.select_for_update().get(pk=record.pk)
        merged = {**record.document, **attributes}
        document = document_validate(record.collection, merged)
        # Nothing changed: no new version, and no echo to the other apps (two apps
        # writing back what they receive would otherwise ping-pong for ever).
        if document == record.document:
            return record

        record.document = document
        record.updated_at = timezone.now()
        _save(record, app_instance, user)
    return record
