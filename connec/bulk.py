"""Many new records written at once: what a batch of plain creates becomes.

``record_create`` costs a handful of statements per record; a connector sending 50
invoices would pay them 50 times, each in its own transaction. Here the creates
are first checked one by one exactly as ``record_create`` checks them
(``create_prepare``), then the records, their history rows, the apps' ids and the
webhook outbox rows are inserted together in one transaction
(``records_create``): each change keeps its own transaction id, history row and
deliveries, as if it had been written alone.

Only plain creates come here. Anything that depends on what an earlier write of
the same batch did (a smart merge, an organisation attached by name, an update)
goes through ``services`` one by one.
"""

import datetime
import uuid
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from simple_history.signals import (
    post_create_historical_record,
    pre_create_historical_record,
)
from simple_history.utils import get_change_reason_from_object

from hub.models import AppInstance
from maestrano import hotsql

from . import ids, services, webhooks
from .history import current_write_context
from .models import ExternalId, Record

_ONE_MICROSECOND = datetime.timedelta(microseconds=1)
_HISTORY_MODEL = Record.history.model


@dataclass(frozen=True)
class CreatePrepared:
    """One create, checked and resolved, ready to be inserted."""

    collection: str
    document: dict
    app_ids: tuple[ids.AppId, ...]
    # The apps' ids its references named, before they were resolved.
    referenced: frozenset = frozenset()


def create_prepare(
    *, app_instance: AppInstance | None, organization, collection: str, attributes
) -> CreatePrepared | None:
    """Check a create as ``record_create`` would, without writing anything.

    Raise the same errors. Return ``None`` for a create that must go through
    ``services.record_post`` instead: one with ``matching_fields`` or
    ``attach_to_organization``, or naming two ids for one app account (the
    single path stores the first and then replaces it).
    """
    options = services.write_options(collection, attributes)
    if options.matching_fields or options.attach_to_organization:
        return None
    app_ids = ids.own_ids_parse(
        collection, attributes.get("id"), app_instance=app_instance, record=None
    )
    if len({(app_id.provider, app_id.realm) for app_id in app_ids}) < len(app_ids):
        return None
    document = services.document_validate(collection, attributes)
    referenced = ids.referenced_app_ids(collection, document, app_instance=app_instance)
    document = ids.references_resolve(
        organization=organization,
        collection=collection,
        document=document,
        app_instance=app_instance,
    )
    return CreatePrepared(collection, document, tuple(app_ids), frozenset(referenced))


def app_ids_clash(earlier: list[CreatePrepared], create: CreatePrepared) -> bool:
    """Tell whether ``create`` depends on the app ids that ``earlier`` creates give.

    It does when it gives one of them too (written one after the other, it would
    be refused as taken) or when one of its references names one (it would find
    the record created just before). Such a create goes through the single path,
    after the earlier ones are stored.
    """
    given = {app_id for prepared in earlier for app_id in prepared.app_ids}
    taken = {
        (prepared.collection, app_id)
        for prepared in earlier
        for app_id in prepared.app_ids
    }
    return bool(create.referenced & given) or any(
        (create.collection, app_id) in taken for app_id in create.app_ids
    )


def records_create(
    *,
    app_instance: AppInstance | None,
    organization,
    creates: list[CreatePrepared],
    user=None,
) -> list[Record]:
    """Store the prepared creates in one transaction; return the records in order.

    A database refusal (an app id another writer took meanwhile) rolls back all
    of them and is raised; the caller then writes them one by one, so that only
    the create at fault is refused.
    """
    context = current_write_context()
    records = []
    with transaction.atomic():
        moment = timezone.now()
        for create in creates:
            record = Record(
                organization=organization,
                collection=create.collection,
                document=create.document,
                created_by=app_instance,
                created_at=moment,
                updated_at=moment,
            )
            record._transaction_id = context.transaction_id or uuid.uuid4()
            record._app_instance = app_instance
            record._history_user = user
            records.append(record)
            # Each record a moment of its own, in the order of the creates, so
            # that listings by creation time show them in the order they came.
            moment += _ONE_MICROSECOND

        hotsql.insert_rows(records)
        history_create(records)
        ExternalId.objects.bulk_create(
            [
                ExternalId(
                    record=record,
                    organization_id=organization.pk,
                    collection=record.collection,
                    provider=app_id.provider,
                    realm=app_id.realm,
                    external_id=app_id.external_id,
                    app_instance=app_instance,
                )
                for record, create in zip(records, creates, strict=True)
                for app_id in create.app_ids
            ]
        )
        webhooks.deliveries_bulk_create(records=records, origin=app_instance)
    return records


def history_create(records, *, history_type="+"):
    """Add the history row of each record just saved, as django-simple-history would.

    The rows are built field for field as its ``create_historical_record`` builds
    them and go through the same signals (the ``pre_create_historical_record``
    receiver adds the transaction, app instance and origin, see
    ``connec.history``), then are inserted together. ``history_type`` is ``+``
    for new records, ``~`` for changed ones. The records were saved without
    their own history row (``skip_history_when_saving``): asking the history
    manager for each would build a new manager class every time, which costs
    more than the insert.
    """
    history = _HISTORY_MODEL
    rows = []
    for record in records:
        row = history(
            history_date=timezone.now(),
            history_type=history_type,
            history_user=record._history_user,
            history_change_reason=get_change_reason_from_object(record),
            **{
                field.attname: getattr(record, field.attname)
                for field in history.tracked_fields
            },
        )
        pre_create_historical_record.send(
            sender=history,
            instance=record,
            history_date=row.history_date,
            history_user=row.history_user,
            history_change_reason=row.history_change_reason,
            history_instance=row,
            using=None,
        )
        rows.append(row)
    hotsql.insert_rows(rows)
    for record, row in zip(records, rows, strict=True):
        post_create_historical_record.send(
            sender=history,
            instance=record,
            history_instance=row,
            history_date=row.history_date,
            history_user=row.history_user,
            history_change_reason=row.history_change_reason,
            using=None,
        )
