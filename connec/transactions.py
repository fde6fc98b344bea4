"""The transaction log of Connec!: every change of a record, as Transac! shows it.

A transaction log is one history row of a record (``Record.history``) read beside
the row before it: the action (``CREATE`` for the first row, ``UPDATE`` after; an
archive is an update to the status ``ARCHIVED``, as in the original), the document
before and after, who wrote it (app instance or person), through what (the origin)
and in which connector run. Apps add ``ERROR`` logs for records they could not
import (``TransactionError``); the history feed shows them among the changes.

The feeds (reference §6.1): ``history`` is every log, ``pending`` the changes with
a delivery held for approval (see ``connec.sharing``).
"""

import re
import uuid
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import CharField, Exists, F, OuterRef, Q, Subquery, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from hub.models import AppInstance

from . import collections, errors, query
from .models import Delivery, ExternalId, Record, RecordSharing, TransactionError

HistoricalRecord = Record.history.model

HISTORY = "history"
PENDING = "pending"
FEEDS = (HISTORY, PENDING)

SUCCESS = "SUCCESS"
ERROR = "ERROR"
_ACTIONS = {"+": "CREATE", "~": "UPDATE", "-": "DELETE"}

# The document fields a record is known by, first found wins (the "reference"
# Transac! shows as a title and searches).
REFERENCE_FIELDS = (
    "transaction_number",
    "reference",
    "code",
    "name",
    "title",
    "last_name",
)

_IRREGULAR = {"people": "Person"}


def entity_type(collection: str) -> str:
    """Name a collection as the original's model class: ``Entity::CreditNote``."""
    singular = _IRREGULAR.get(collection)
    if singular is None:
        *words, last = collection.split("_")
        if last.endswith("ies"):
            last = last[:-3] + "y"
        elif last.endswith("s") and not last.endswith("ss"):
            last = last[:-1]
        singular = "".join(word.capitalize() for word in [*words, last])
    return f"Entity::{singular}"


def _shown(document, status):
    if document is None:
        return None
    shown = dict(document)
    if status == Record.Status.ARCHIVED:
        shown["status"] = Record.Status.ARCHIVED
    return shown


@dataclass
class Mapping:
    """What one app instance of the organisation has of a logged change."""

    app_instance: AppInstance
    external_id: ExternalId | None
    pending: bool
    auto_commit: bool = False
    push_disabled: bool = False
    pull_disabled: bool = False
    updated_at: object = None


@dataclass
class TransactionLog:
    """One change of a record, or one import error an app reported."""

    id: str
    status: str
    action: str | None
    collection: str
    record_id: uuid.UUID | None
    reference: str
    created_at: object
    app_instance: AppInstance | None = None
    user: object = None
    origin: str | None = None
    sync_run_id: uuid.UUID | None = None
    transaction_id: uuid.UUID | None = None
    before: dict | None = None
    after: dict | None = None
    message: str = ""
    mappings: list = field(default_factory=list)

    @property
    def entity_type(self) -> str:
        return entity_type(self.collection) if self.collection else ""

    @property
    def changes(self) -> dict:
        """The values this change wrote: all of them for a create; ``None`` removes."""
        if self.after is None:
            return {}
        if self.before is None:
            return dict(self.after)
        changed = {
            key: value
            for key, value in self.after.items()
            if self.before.get(key, _ABSENT) != value
        }
        changed.update({key: None for key in self.before if key not in self.after})
        return changed


_ABSENT = object()


# Filters


def _reference_expression():
    return Coalesce(
        *(KT(f"document__{name}") for name in REFERENCE_FIELDS),
        Cast("id", CharField()),
        output_field=CharField(),
    )


@dataclass(frozen=True)
class _Field:
    """A ``$filter`` field: its kind and what it reads in logs and in errors.

    A target is a lookup path, or ``None`` when that side has no such value (the
    clause then keeps none of that side's rows).
    """

    kind: str  # text, uuid, time, action, status, entity_type, choice
    log: str | None
    error: str | None


_FIELDS = {
    "action": _Field("action", "history_type", None),
    "status": _Field("status", None, None),
    "entity_type": _Field("entity_type", "collection", "collection"),
    "resource_type": _Field("text", "collection", "collection"),
    "entity_id": _Field("uuid", "id", "record_id"),
    "reference": _Field("text", "reference", "entity_name"),
    "group_id": _Field("text", "app_instance__uid", "app_instance__uid"),
    "created_at": _Field("time", "history_date", "created_at"),
    "updated_at": _Field("time", "history_date", "created_at"),
    "origin": _Field("choice", "origin", None),
    "transaction_id": _Field("uuid", "transaction_id", None),
    "sync_run_id": _Field("uuid", "sync_run_id", None),
}
_OPERATORS = {
    "text": {"eq", "ne", "in", "match"},
    "entity_type": {"eq", "ne", "in", "match"},
    "uuid": {"eq", "ne", "in"},
    "choice": {"eq", "ne", "in"},
    "action": {"eq", "ne", "in"},
    "status": {"eq", "ne", "in"},
    "time": {"eq", "ne", "gt", "lt", "gte", "lte"},
}
_NOTHING = Q(pk__in=[])


def _values(clause):
    return clause.value if clause.operator == "in" else [clause.value]


def _converted(kind, token):
    value = token.value
    if kind == "time":
        return query._timestamp(token)
    if kind == "uuid":
        try:
            return uuid.UUID(str(value))
        except ValueError:
            raise errors.invalid_filter(
                token.position, "an id is a quoted Connec! id"
            ) from None
    if not isinstance(value, str):
        raise errors.invalid_filter(token.position, "expected a quoted string")
    if kind == "action":
        codes = {action: code for code, action in _ACTIONS.items()}
        if value not in codes:
            raise errors.invalid_filter(
                token.position, "an action is 'CREATE' or 'UPDATE'"
            )
        return codes[value]
    if kind == "status" and value not in (SUCCESS, ERROR):
        raise errors.invalid_filter(token.position, "a status is 'SUCCESS' or 'ERROR'")
    return value


def _entity_collections(clause):
    """Return the collections whose entity type the clause keeps."""
    names = list(collections.names())
    types = [entity_type(name) for name in names]
    if clause.operator == "match":
        pattern, ignore_case = query._regex_check(clause.value)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name FROM unnest(%s::text[], %s::text[]) AS t(name, type) "
                f"WHERE type {'~*' if ignore_case else '~'} %s",
                [names, types, pattern],
            )
            return {row[0] for row in cursor.fetchall()}
    wanted = {_converted("text", token) for token in _values(clause)}
    kept = {name for name, kind in zip(names, types, strict=True) if kind in wanted}
    if clause.operator == "ne":
        return set(names) - kept
    return kept


def _side_condition(path, clause, values, pattern):
    if path is None:
        return _NOTHING
    if clause.operator == "match":
        regex, ignore_case = pattern
        return Q(**{f"{path}__{'iregex' if ignore_case else 'regex'}": regex})
    if clause.operator == "in":
        return Q(**{f"{path}__in": values})
    if clause.operator == "eq":
        return Q(**{path: values[0]})
    if clause.operator == "ne":
        return ~Q(**{path: values[0]})
    return Q(**{f"{path}__{clause.operator}": values[0]})


def _clause_conditions(clause) -> tuple[Q, Q]:
    """Return the clause's condition on logs and on errors."""
    spec = _FIELDS.get(clause.field)
    if spec is None:
        raise errors.invalid_filter(
            clause.position,
            f"{clause.field!r} is not a field of transaction logs; filter on "
            f"{', '.join(sorted(_FIELDS))}",
        )
    if clause.operator not in _OPERATORS[spec.kind]:
        raise errors.invalid_filter(
            clause.position,
            f"{clause.field} takes {', '.join(sorted(_OPERATORS[spec.kind]))}",
        )

    if spec.kind == "entity_type":
        kept = Q(collection__in=_entity_collections(clause))
        return kept, kept
    if spec.kind == "status":
        wanted = {_converted("status", token) for token in _values(clause)}
        keeps = {status: status in wanted for status in (SUCCESS, ERROR)}
        if clause.operator == "ne":
            keeps = {status: not kept for status, kept in keeps.items()}
        return (
            Q() if keeps[SUCCESS] else _NOTHING,
            Q() if keeps[ERROR] else _NOTHING,
        )

    pattern = None
    values = []
    if clause.operator == "match":
        pattern = query._regex_check(clause.value)
    else:
        values = [_converted(spec.kind, token) for token in _values(clause)]
    return (
        _side_condition(spec.log, clause, values, pattern),
        _side_condition(spec.error, clause, values, pattern),
    )


def _filters(filter_text):
    logs, errors_kept = Q(), Q()
    for clause in query.parse(filter_text) if filter_text else []:
        on_logs, on_errors = _clause_conditions(clause)
        logs &= on_logs
        errors_kept &= on_errors
    return logs, errors_kept


def _descending(orderby_text) -> bool:
    """Read ``$orderby``: ``created_at`` (or ``updated_at``), ``asc`` or ``desc``."""
    text = orderby_text.strip()
    if not text:
        return True
    match = re.fullmatch(r"(created_at|updated_at)(?:\s+(asc|desc))?", text, re.I)
    if match is None:
        raise errors.invalid_orderby(
            1, "transaction logs are ordered by created_at asc or created_at desc"
        )
    return (match.group(2) or "asc").lower() == "desc"


# The feed


def _held(transaction_id):
    return Delivery.objects.filter(
        transaction_id=transaction_id, status=Delivery.Status.HELD
    )


def transaction_logs_query(
    *,
    organization,
    feed: str = HISTORY,
    filter_text: str = "",
    orderby_text: str = "",
    top: int = 100,
    skip: int = 0,
) -> tuple[list[TransactionLog], int]:
    """Return one page of the organisation's transaction logs and how many match.

    Newest first unless ``orderby_text`` says ``created_at asc``. ``$filter``
    fields are those of the feed items (``action``, ``status``, ``entity_type``,
    ``resource_type``, ``entity_id``, ``reference``, ``group_id``, ``created_at``)
    and, for logs only, ``origin``, ``transaction_id`` and ``sync_run_id``.

    Limitation: ``total`` counts every match, and deep pages walk past every log
    before them, as record lists do.
    """
    if feed not in FEEDS:
        raise ValueError(f"unknown feed {feed!r}")
    on_logs, on_errors = _filters(filter_text)
    descending = _descending(orderby_text)

    logs = (
        HistoricalRecord.objects.filter(organization=organization)
        .alias(reference=_reference_expression())
        .filter(on_logs)
    )
    if feed == PENDING:
        logs = logs.filter(Exists(_held(OuterRef("transaction_id"))))
        reported = TransactionError.objects.none()
    else:
        reported = TransactionError.objects.filter(organization=organization).filter(
            on_errors
        )

    keys = _page_keys(logs, reported, descending, top, skip)
    total = logs.count() + (reported.count() if feed == HISTORY else 0)
    return _hydrate(organization, keys), total


def _page_keys(logs, reported, descending, top, skip):
    """Return ``(kind, key)`` of the page's logs and errors, in the feed's order."""
    page = (
        logs.annotate(
            at=F("history_date"),
            kind=Value("log", output_field=CharField()),
            key=Cast("history_id", CharField()),
        )
        .values_list("at", "kind", "key")
        .union(
            reported.annotate(
                at=F("created_at"),
                kind=Value("error", output_field=CharField()),
                key=Cast("id", CharField()),
            ).values_list("at", "kind", "key"),
            all=True,
        )
    )
    order = ("-at", "-kind", "-key") if descending else ("at", "kind", "key")
    return [(kind, key) for _, kind, key in page.order_by(*order)[skip : skip + top]]


def _hydrate(organization, keys) -> list[TransactionLog]:
    log_ids = [int(key) for kind, key in keys if kind == "log"]
    error_ids = [key for kind, key in keys if kind == "error"]
    found = {("log", str(log.id)): log for log in _logs_loaded(log_ids)}
    found.update(
        (("error", log.id), log) for log in _errors_loaded(organization, error_ids)
    )
    page = [found[key] for key in keys if key in found]
    _mappings_attach(organization, [log for log in page if log.status == SUCCESS])
    return page


def _logs_loaded(history_ids) -> list[TransactionLog]:
    if not history_ids:
        return []
    previous = HistoricalRecord.objects.filter(
        id=OuterRef("id"), history_id__lt=OuterRef("history_id")
    ).order_by("-history_id")
    rows = (
        HistoricalRecord.objects.filter(history_id__in=history_ids)
        .select_related("app_instance__app", "history_user")
        .annotate(
            reference=_reference_expression(),
            before_document=Subquery(previous.values("document")[:1]),
            before_status=Subquery(previous.values("status")[:1]),
        )
    )
    return [
        TransactionLog(
            id=str(row.history_id),
            status=SUCCESS,
            action=_ACTIONS.get(row.history_type, "UPDATE"),
            collection=row.collection,
            record_id=row.id,
            reference=row.reference,
            created_at=row.history_date,
            app_instance=row.app_instance,
            user=row.history_user,
            origin=row.origin,
            sync_run_id=row.sync_run_id,
            transaction_id=row.transaction_id,
            before=_shown(row.before_document, row.before_status),
            after=_shown(row.document, row.status),
        )
        for row in rows
    ]


def _errors_loaded(organization, error_ids) -> list[TransactionLog]:
    if not error_ids:
        return []
    rows = TransactionError.objects.filter(
        organization=organization, pk__in=error_ids
    ).select_related("app_instance__app")
    return [_error_log(row) for row in rows]


def _error_log(row: TransactionError) -> TransactionLog:
    # An app's report changes no record: it has no action and no documents.
    return TransactionLog(
        id=str(row.id),
        status=ERROR,
        action=None,
        collection=row.collection,
        record_id=row.record_id,
        reference=row.entity_name,
        created_at=row.created_at,
        app_instance=row.app_instance,
        message=row.message,
    )


def _mappings_attach(organization, logs):
    """Give each log one mapping per active app instance of the organisation."""
    if not logs:
        return
    record_ids = {log.record_id for log in logs}
    instances = list(
        AppInstance.objects.filter(
            organization=organization, status__in=AppInstance.ACTIVE_STATUSES
        )
        .select_related("app")
        .order_by("created_at", "id")
    )
    decisions = {
        (row.record_id, row.app_instance_id): row
        for row in RecordSharing.objects.filter(record_id__in=record_ids)
    }
    held = set(
        Delivery.objects.filter(
            transaction_id__in={log.transaction_id for log in logs},
            status=Delivery.Status.HELD,
        ).values_list("transaction_id", "app_instance_id")
    )
    app_ids = {
        (row.record_id, row.app_instance_id): row
        for row in ExternalId.objects.filter(
            record_id__in=record_ids, app_instance__isnull=False
        )
    }
    for log in logs:
        for instance in instances:
            decision = decisions.get((log.record_id, instance.pk))
            log.mappings.append(
                Mapping(
                    app_instance=instance,
                    external_id=app_ids.get((log.record_id, instance.pk)),
                    pending=(log.transaction_id, instance.pk) in held,
                    auto_commit=bool(decision and decision.auto_commit),
                    push_disabled=bool(decision and decision.push_disabled),
                    pull_disabled=bool(decision and decision.pull_disabled),
                    updated_at=decision.updated_at if decision else None,
                )
            )


def pending_count(organization) -> int:
    """How many changes of the organisation wait for someone's approval."""
    return (
        HistoricalRecord.objects.filter(organization=organization)
        .filter(Exists(_held(OuterRef("transaction_id"))))
        .count()
    )


# Reports from apps


def transaction_error_create(
    *, organization, app_instance: AppInstance, body
) -> TransactionLog:
    """Store an app's report that it could not import a record (an ERROR log).

    ``body`` is ``{"transaction_logs": {"status": "ERROR", "entity_id",
    "entity_name", "message", "resource_type"}}``; only ``message`` is required.
    """
    attributes = body.get("transaction_logs") if isinstance(body, dict) else None
    pointer = "/transaction_logs"
    if not isinstance(attributes, dict):
        raise errors.invalid_transaction_log(
            pointer,
            'The body must be {"transaction_logs": {"status": "ERROR", '
            '"message": "…"}}.',
        )
    if attributes.get("status") != ERROR:
        raise errors.invalid_transaction_log(
            f"{pointer}/status", 'Apps report logs with "status": "ERROR" only.'
        )
    message = attributes.get("message")
    if not isinstance(message, str) or not message.strip():
        raise errors.invalid_transaction_log(
            f"{pointer}/message", "message says why the record could not be imported."
        )
    collection = _text(attributes, "resource_type", pointer)
    if collection and not collections.exists(collection):
        raise errors.invalid_transaction_log(
            f"{pointer}/resource_type", f"{collection!r} is not a Connec! collection."
        )
    entity_name = _text(attributes, "entity_name", pointer)[:255]
    record = _record_named(organization, collection, attributes, pointer)

    with transaction.atomic():
        report = TransactionError.objects.create(
            organization=organization,
            app_instance=app_instance,
            collection=collection or (record.collection if record else ""),
            record=record,
            entity_name=entity_name,
            message=message.strip(),
            created_at=timezone.now(),
        )
    report.app_instance = app_instance
    return _error_log(report)


def _text(attributes, name, pointer):
    value = attributes.get(name) or ""
    if not isinstance(value, str):
        raise errors.invalid_transaction_log(
            f"{pointer}/{name}", f"{name} is a string."
        )
    return value.strip()


def _record_named(organization, collection, attributes, pointer):
    entity_id = _text(attributes, "entity_id", pointer)
    if not entity_id:
        return None
    records = Record.objects.filter(organization=organization)
    if collection:
        records = records.filter(collection=collection)
    try:
        record = records.filter(pk=uuid.UUID(entity_id)).first()
    except ValueError:
        record = None
    if record is None:
        raise errors.invalid_transaction_log(
            f"{pointer}/entity_id",
            f"{entity_id!r} is no Connec! id of a record of this organisation"
            + (f" in {collection}" if collection else "")
            + ".",
        )
    return record


# The wire


def _timestamp(moment):
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def transaction_log_json(log: TransactionLog, *, group_id: str, url) -> dict:
    """Render a log as a feed item; ``url(path)`` makes the links absolute.

    ``group_id`` is the group the caller names, which the links go through.
    """
    instance = log.app_instance
    item = {
        "transaction_log": {
            "id": log.id,
            "reference": log.reference or (str(log.record_id) if log.record_id else ""),
            "entity_id": str(log.record_id) if log.record_id else None,
            "entity_type": log.entity_type,
            "resource_type": log.collection,
            "group_id": instance.uid if instance else None,
            "app_name": _app_name(instance),
            "user_id": log.user.uid if log.user else None,
            "action": log.action,
            "status": log.status,
            "message": log.message or None,
            "origin": log.origin,
            "transaction_id": str(log.transaction_id) if log.transaction_id else None,
            "sync_run_id": str(log.sync_run_id) if log.sync_run_id else None,
            "created_at": _timestamp(log.created_at),
            "updated_at": _timestamp(log.created_at),
        },
        "changes": log.changes,
        "before": log.before,
        "after": log.after,
        "mappings": [_mapping_json(mapping) for mapping in log.mappings],
    }
    if log.record_id and log.collection:
        base = f"/connec/api/v2/{group_id}/{log.collection}/{log.record_id}"
        item["links"] = {
            name: url(f"{base}/{name}") for name in ("commit", "matches", "merge")
        }
    else:
        item["links"] = {}
    return item


def _app_name(instance):
    if instance is None:
        return None
    return instance.name or instance.app.name


def _mapping_json(mapping: Mapping) -> dict:
    external = mapping.external_id
    return {
        "group_id": mapping.app_instance.uid,
        "app_name": _app_name(mapping.app_instance),
        "provider": external.provider if external else mapping.app_instance.app.nid,
        "external_id": external.external_id if external else None,
        "realm": external.realm if external else mapping.app_instance.uid,
        "pending": mapping.pending,
        "auto_commit": mapping.auto_commit,
        "push_disabled": mapping.push_disabled,
        "pull_disabled": mapping.pull_disabled,
        "updated_at": _timestamp(mapping.updated_at),
    }
