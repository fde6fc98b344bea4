"""Rollback: undo one transaction, an app's changes in a time window, or a sync run.

A rollback is previewed first: for every record the scope touched, the document it
had before the first change in scope (read from its history), the document it has
now, and a conflict when something outside the scope changed it after the scope's
first change. Executing it sets every record back to that earlier version as one
new transaction with the origin ``rollback``, recorded in history and sent to the
apps like any update; a record the scope created is archived. Nothing is
overwritten silently: each conflicting record needs the person's choice, either
``restore`` (undo the later changes too) or ``keep`` (leave the record as it is).
"""

import json
import logging
import uuid
from dataclasses import dataclass, field

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.utils import timezone
from psycopg2.extras import execute_values

from hub.models import AppInstance
from maestrano import times

from . import duplicates, errors, sharing, webhooks
from .history import Origin, write_context
from .models import Delivery, Record, Rollback

logger = logging.getLogger(__name__)

HistoricalRecord = Record.history.model

RESTORE = "restore"
KEEP = "keep"
CHOICES = (RESTORE, KEEP)

# What a rollback does to a record: back to its earlier version, or archived
# because the scope created it.
ACTION_RESTORE = "restore"
ACTION_ARCHIVE = "archive"

# Rows per statement when writing thousands of records back.
WRITE_BATCH = 1000

Scope = Rollback.Scope


# The scope


def rollback_scope_parse(*, organization, body) -> Rollback:
    """Return an unsaved rollback of the scope ``body`` names, or refuse it.

    ``{"transaction_id"}``, ``{"group_id", "since", "until"?}`` (an app instance's
    changes, ``until`` now by default) or ``{"sync_run_id"}``; ``scope`` may name
    which one, and is read from the fields otherwise.
    """
    if not isinstance(body, dict):
        raise errors.invalid_rollback("", "The body must be a JSON object.")
    scope = body.get("scope") or _scope_guessed(body)
    rollback = Rollback(organization=organization, scope=scope)
    if scope == Scope.TRANSACTION:
        rollback.transaction_id = _uuid(body, "transaction_id")
    elif scope == Scope.SYNC_RUN:
        rollback.sync_run_id = _uuid(body, "sync_run_id")
    elif scope == Scope.APP_WINDOW:
        rollback.app_instance = _app_instance(organization, body.get("group_id"))
        rollback.since = _moment(body, "since", required=True)
        rollback.until = _moment(body, "until", required=False) or timezone.now()
        if rollback.since > rollback.until:
            raise errors.invalid_rollback("/until", "until comes before since.")
    else:
        raise errors.invalid_rollback(
            "/scope",
            "scope is one of transaction (with transaction_id), app_window (with "
            "group_id, since and until) or sync_run (with sync_run_id).",
        )
    return rollback


def _scope_guessed(body):
    for key, scope in (
        ("transaction_id", Scope.TRANSACTION),
        ("sync_run_id", Scope.SYNC_RUN),
        ("group_id", Scope.APP_WINDOW),
    ):
        if key in body:
            return scope
    return None


def _uuid(body, name):
    try:
        return uuid.UUID(str(body.get(name)))
    except ValueError:
        raise errors.invalid_rollback(
            f"/{name}", f"{name} must be the id of a transaction log's {name}."
        ) from None


def _app_instance(organization, group_id):
    # Removed instances too: their last changes may be what needs undoing.
    found = AppInstance.objects.filter(organization=organization, uid=group_id).first()
    if not isinstance(group_id, str) or found is None:
        raise errors.invalid_rollback(
            "/group_id",
            f"{group_id!r} is not an app instance of organisation {organization.uid}.",
        )
    return found


def _moment(body, name, *, required):
    raw = body.get(name)
    if raw is None and not required:
        return None
    moment = times.aware_time_in_utc(raw)
    if moment is None:
        raise errors.invalid_rollback(
            f"/{name}",
            f"{name} must be an ISO 8601 time with its time zone, such as "
            "2026-12-04T10:00:00Z.",
        )
    return moment


def _in_scope(rollback) -> Q:
    if rollback.scope == Scope.TRANSACTION:
        return Q(transaction_id=rollback.transaction_id)
    if rollback.scope == Scope.SYNC_RUN:
        return Q(sync_run_id=rollback.sync_run_id)
    return Q(
        app_instance_id=rollback.app_instance_id,
        history_date__gte=rollback.since,
        history_date__lte=rollback.until,
    )


# The plan: what each record goes back to


@dataclass
class Step:
    """What the rollback does to one record."""

    record_id: uuid.UUID
    collection: str
    action: str
    # The version to go back to (history row values), None when archiving.
    before: dict | None
    # Changes outside the scope made after the scope's first change.
    later: list = field(default_factory=list)

    @property
    def conflict(self) -> bool:
        return bool(self.later)


def rollback_plan(rollback: Rollback) -> list[Step]:
    """Return the step of every record the rollback's scope changed.

    Two queries whatever the size of the scope: the history of the records
    touched (without documents) and the documents to go back to.
    """
    touched = HistoricalRecord.objects.filter(
        _in_scope(rollback), organization_id=rollback.organization_id
    ).values("id")
    rows = (
        HistoricalRecord.objects.filter(id__in=touched)
        .annotate(in_scope=ExpressionWrapper(_in_scope(rollback), BooleanField()))
        .order_by("id", "history_id")
        .values_list(
            "id",
            "collection",
            "history_id",
            "history_type",
            "in_scope",
            "transaction_id",
            "origin",
            "app_instance_id",
            "history_date",
        )
    )

    steps, before_ids = [], {}
    record_id, previous, step = None, None, None
    for row in rows.iterator(chunk_size=5000):
        rid, collection, history_id, history_type, in_scope = row[:5]
        if rid != record_id:
            record_id, previous, step = rid, None, None
        if step is None and in_scope:
            created = history_type == "+" or previous is None
            action = ACTION_ARCHIVE if created else ACTION_RESTORE
            step = Step(rid, collection, action, None)
            if not created:
                before_ids[previous] = step
            steps.append(step)
        elif step is not None and not in_scope:
            step.later.append(row[5:])
        previous = history_id

    versions = HistoricalRecord.objects.filter(history_id__in=before_ids).values(
        "history_id", "document", "status", "merged_into_id"
    )
    for version in versions:
        before_ids[version.pop("history_id")].before = version
    return steps


# Preview


def rollback_preview(*, organization, body, user=None) -> Rollback:
    """Work out what rolling back the scope ``body`` names would do; store it.

    Refuse a scope that changed nothing of the organisation's records.
    """
    rollback = rollback_scope_parse(organization=organization, body=body)
    return rollback_prepare(rollback=rollback, user=user)


def rollback_prepare(*, rollback: Rollback, user=None) -> Rollback:
    """Store the preview of an unsaved ``rollback`` whose scope is set."""
    steps = rollback_plan(rollback)
    if not steps:
        raise errors.rollback_scope_empty()

    rollback.requested_by = user if user is not None and user.is_authenticated else None
    rollback.preview = _preview_json(steps)
    rollback.save()
    logger.info(
        "rollback previewed org=%s rollback=%s scope=%s records=%s conflicts=%s",
        rollback.organization_id,
        rollback.pk,
        rollback.scope,
        len(steps),
        rollback.preview["counts"]["conflicts"],
    )
    return rollback


def _preview_json(steps):
    current = {
        pk: {"document": document, "status": status}
        for pk, document, status in Record.objects.filter(
            pk__in=[step.record_id for step in steps]
        ).values_list("pk", "document", "status")
    }
    group_ids = _group_ids(steps)
    records = []
    for step in steps:
        records.append(
            {
                "id": str(step.record_id),
                "collection": step.collection,
                "action": step.action,
                "before": None
                if step.before is None
                else {
                    "document": step.before["document"],
                    "status": step.before["status"],
                },
                "current": current.get(step.record_id),
                "conflict": [_later_json(later, group_ids) for later in step.later]
                or None,
            }
        )
    return {
        "records": records,
        "counts": {
            "records": len(steps),
            "restored": sum(step.action == ACTION_RESTORE for step in steps),
            "archived": sum(step.action == ACTION_ARCHIVE for step in steps),
            "conflicts": sum(step.conflict for step in steps),
        },
    }


def _group_ids(steps):
    instance_ids = {later[2] for step in steps for later in step.later if later[2]}
    return dict(
        AppInstance.objects.filter(pk__in=instance_ids).values_list("pk", "uid")
    )


def _later_json(later, group_ids):
    transaction_id, origin, app_instance_id, at = later
    return {
        "transaction_id": str(transaction_id) if transaction_id else None,
        "origin": origin,
        "group_id": group_ids.get(app_instance_id),
        "created_at": at.isoformat().replace("+00:00", "Z"),
    }


# Execution


def choices_for_every_conflict(rollback: Rollback, choice: str) -> dict:
    """Return ``choice`` for every record the preview found in conflict."""
    return {
        entry["id"]: choice
        for entry in rollback.preview.get("records", ())
        if entry["conflict"]
    }


def _choices_parse(body) -> dict:
    choices = body.get("choices", {}) if isinstance(body, dict) else None
    if not isinstance(choices, dict):
        raise errors.invalid_rollback(
            "/choices",
            'choices maps a record id to "restore" or "keep": {"<id>": "keep"}.',
        )
    for record_id, choice in choices.items():
        if choice not in CHOICES:
            raise errors.invalid_rollback(
                f"/choices/{record_id}", 'A choice is "restore" or "keep".'
            )
    return choices


def rollback_execute(*, rollback: Rollback, body=None, user=None) -> Rollback:
    """Set every record of the rollback's scope back, as one new transaction.

    The plan is worked out again under lock, so a change made since the preview
    is seen: a conflict without a choice refuses the whole rollback and nothing
    is written. Records already as they should be are left alone.
    """
    choices = _choices_parse(body or {})
    with transaction.atomic():
        rollback = Rollback.objects.select_for_update().get(pk=rollback.pk)
        if rollback.status == Rollback.Status.EXECUTED:
            raise errors.rollback_executed(rollback.pk)
        # The records are locked before their history is read: a write landing
        # in between would otherwise be overwritten without being seen.
        records = _records_locked(rollback)
        steps = rollback_plan(rollback)
        unresolved = [
            step.record_id
            for step in steps
            if step.conflict and str(step.record_id) not in choices
        ]
        if unresolved:
            raise errors.rollback_conflict_unresolved(unresolved)
        planned = {str(step.record_id) for step in steps}
        for record_id in choices:
            if record_id not in planned:
                raise errors.invalid_rollback(
                    f"/choices/{record_id}",
                    f"{record_id} is not a record this rollback sets back; choices "
                    "name records of its preview. Nothing was changed.",
                )

        transaction_id = uuid.uuid4()
        with write_context(Origin.ROLLBACK, transaction_id=transaction_id):
            changed = _records_set_back(
                rollback, records, steps, choices, transaction_id, user
            )
        rollback.status = Rollback.Status.EXECUTED
        rollback.choices = choices
        rollback.executed_at = timezone.now()
        rollback.executed_transaction_id = transaction_id
        rollback.save(
            update_fields=[
                "status",
                "choices",
                "executed_at",
                "executed_transaction_id",
            ]
        )
    logger.info(
        "rollback executed org=%s rollback=%s transaction=%s records=%s",
        rollback.organization_id,
        rollback.pk,
        transaction_id,
        len(changed),
    )
    return rollback


def _records_locked(rollback):
    touched = HistoricalRecord.objects.filter(
        _in_scope(rollback), organization_id=rollback.organization_id
    ).values("id")
    # Locked in one order, so two rollbacks over the same records cannot deadlock.
    locked = Record.objects.select_for_update().filter(pk__in=touched).order_by("pk")
    return {record.pk: record for record in locked}


def _records_set_back(rollback, records, steps, choices, transaction_id, user):
    """Write the records back in bulk: rows, history rows, then webhooks.

    The same effects as ``services.record_update`` for each record (one history
    row each, carrying the transaction and the origin, and a delivery to every
    app the sharing rules let know), with a handful of statements per thousand
    records instead of several per record.
    """
    wanted = [
        step
        for step in steps
        if not (step.conflict and choices.get(str(step.record_id)) == KEEP)
    ]
    now = timezone.now()
    changed = []
    for step in wanted:
        record = records[step.record_id]
        if step.action == ACTION_ARCHIVE:
            target = (record.document, Record.Status.ARCHIVED, record.merged_into_id)
        else:
            before = step.before
            target = (before["document"], before["status"], before["merged_into_id"])
        if target == (record.document, record.status, record.merged_into_id):
            continue
        record._kept_as_is = (record.document, record.merged_into_id)
        record.document, record.status, record.merged_into_id = target
        record.updated_at = now
        record._transaction_id = transaction_id
        changed.append(record)

    _records_store(changed, now)
    _external_ids_follow(changed)
    Record.history.bulk_history_create(
        changed,
        batch_size=WRITE_BATCH,
        update=True,
        default_user=user if user is not None and user.is_authenticated else None,
        default_date=now,
        custom_historical_attrs={
            "transaction_id": transaction_id,
            "app_instance": None,
            "origin": Origin.ROLLBACK,
            "sync_run_id": None,
        },
    )
    _deliveries_create(records=changed, organization=rollback.organization)
    return changed


def _external_ids_follow(records):
    """Move the apps' ids as the merges being undone or redone moved them.

    A record set apart from the one that absorbed it gets its ids back; a record
    absorbed again gives them to the record kept, as the merge did.
    """
    separated, absorbed = [], {}
    for record in records:
        merged_into_before = record._kept_as_is[1]
        if merged_into_before == record.merged_into_id:
            continue
        if merged_into_before is not None:
            separated.append(record.pk)
        if record.merged_into_id is not None:
            absorbed.setdefault(record.merged_into_id, []).append(record.pk)
    if separated:
        duplicates.external_ids_return(separated)
    for kept_id, absorbed_ids in absorbed.items():
        duplicates.external_ids_move(kept_id, absorbed_ids)


def _records_store(records, now):
    """Write the records' new state: one UPDATE per thousand records.

    Django's ``bulk_update`` builds a CASE expression per field and row, which
    costs more in Python than the whole write in PostgreSQL; records only being
    archived do not need their document sent back at all.
    """
    archived_only = [
        record.pk
        for record in records
        if record.status == Record.Status.ARCHIVED
        and record._kept_as_is == (record.document, record.merged_into_id)
    ]
    Record.objects.filter(pk__in=archived_only).update(
        status=Record.Status.ARCHIVED, updated_at=now
    )
    skipped = set(archived_only)
    rows = [
        (
            str(record.pk),
            json.dumps(record.document, cls=DjangoJSONEncoder),
            record.status,
            str(record.merged_into_id) if record.merged_into_id else None,
            now,
        )
        for record in records
        if record.pk not in skipped
    ]
    with connection.cursor() as cursor:
        execute_values(
            cursor.cursor,
            f"UPDATE {Record._meta.db_table} AS record SET document = new.document, "
            "status = new.status, merged_into_id = new.merged_into, "
            "updated_at = new.updated_at FROM (VALUES %s) AS new "
            "(id, document, status, merged_into, updated_at) "
            "WHERE record.id = new.id",
            rows,
            template="(%s::uuid, %s::jsonb, %s, %s::uuid, %s::timestamptz)",
            page_size=WRITE_BATCH,
        )


def _deliveries_create(*, records, organization) -> list[Delivery]:
    """Add the outbox rows of changes to many records written by a person.

    The recipients are those ``webhooks.recipients_for_change`` names for a change
    written without an app (every subscribed app instance), asked once per
    collection; the sharing rules and each record's own decisions are loaded
    for all the records at once (``sharing.routing_load``) instead of per record.
    """
    deliveries = []
    by_collection = {}
    for record in records:
        by_collection.setdefault(record.collection, []).append(record)
    for collection, group in by_collection.items():
        recipients = webhooks.recipients_for_change(
            organization=organization, collection=collection, origin=None
        )
        routing = sharing.routing_load(
            organization=organization,
            collection=collection,
            record_ids=[record.pk for record in group],
            app_instance_ids=[recipient.pk for recipient in recipients],
        )
        for record in group:
            for recipient in recipients:
                status = routing.status(record.pk, recipient.pk)
                if status is None:
                    continue
                delivery = webhooks._delivery(record, recipient, organization)
                if status == Delivery.Status.HELD:
                    delivery.status = Delivery.Status.HELD
                    delivery.failure_reason = ""
                deliveries.append(delivery)

    Delivery.objects.bulk_create(deliveries, batch_size=WRITE_BATCH)
    pending = [d for d in deliveries if d.status == Delivery.Status.PENDING]
    if pending:
        webhooks._wake_after_commit(pending)
    return deliveries


# Reading


def rollback_get(*, organization, rollback_id) -> Rollback:
    """Return the organisation's rollback ``rollback_id``, or refuse."""
    try:
        key = uuid.UUID(str(rollback_id))
    except ValueError:
        raise errors.rollback_not_found(rollback_id) from None
    found = Rollback.objects.filter(organization=organization, pk=key).first()
    if found is None:
        raise errors.rollback_not_found(rollback_id)
    return found


def rollback_json(rollback: Rollback) -> dict:
    def moment(value):
        return value.isoformat().replace("+00:00", "Z") if value else None

    return {
        "id": str(rollback.pk),
        "scope": rollback.scope,
        "transaction_id": str(rollback.transaction_id)
        if rollback.transaction_id
        else None,
        "group_id": rollback.app_instance.uid if rollback.app_instance else None,
        "since": moment(rollback.since),
        "until": moment(rollback.until),
        "sync_run_id": str(rollback.sync_run_id) if rollback.sync_run_id else None,
        "status": rollback.status,
        "preview": rollback.preview,
        "choices": rollback.choices,
        "created_at": moment(rollback.created_at),
        "executed_at": moment(rollback.executed_at),
        "executed_transaction_id": str(rollback.executed_transaction_id)
        if rollback.executed_transaction_id
        else None,
    }
