"""Which apps get a change of a record: sharing rules and per-record decisions.

An organisation sets, per collection and app instance, a policy (``SharingRule``):
``share`` (the default, when there is no rule), ``never`` or ``ask``. People then
decide per record and app (``RecordSharing``, the ``mappings`` of reference §6.2):
``auto_commit`` shares later changes without asking, ``push_disabled`` never tells
the app about the record, ``pull_disabled`` refuses the app's changes of it.

For each change, an app gets its webhook when the record's decision or else the
policy lets it; under ``ask`` the delivery is written but ``held`` (a pending
transaction) until someone commits it, and under ``never`` nothing is written.
"""

import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import BooleanField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from hub.models import AppInstance

from . import collections, errors, webhooks
from .models import Delivery, Record, RecordSharing, SharingRule
from .representation import record_json

logger = logging.getLogger(__name__)

Policy = SharingRule.Policy

COMMIT_FLAGS = ("commit", "auto_commit", "pull_disabled", "push_disabled")
_STORED_FLAGS = ("auto_commit", "pull_disabled", "push_disabled")


# Routing a change


def _record_flag(record, flag):
    return Coalesce(
        Subquery(
            RecordSharing.objects.filter(
                record_id=record.pk, app_instance=OuterRef("pk")
            ).values(flag)[:1]
        ),
        Value(False),
        output_field=BooleanField(),
    )


def recipients_annotate(recipients, *, record, organization):
    """Add to each recipient what decides its delivery, in the recipients' query.

    The organisation's policy for the collection and the record's decisions for
    the app come as columns of the same SQL statement, so routing a change costs
    no query of its own.
    """
    policy = SharingRule.objects.filter(
        organization=organization,
        collection=record.collection,
        app_instance=OuterRef("pk"),
    ).values("policy")[:1]
    return recipients.annotate(
        sharing_policy=Coalesce(Subquery(policy), Value(Policy.SHARE)),
        sharing_auto_commit=_record_flag(record, "auto_commit"),
        sharing_push_disabled=_record_flag(record, "push_disabled"),
    )


def _status(policy, auto_commit, push_disabled) -> str | None:
    if push_disabled:
        return None
    if auto_commit:
        return Delivery.Status.PENDING
    if policy == Policy.NEVER:
        return None
    if policy == Policy.ASK:
        return Delivery.Status.HELD
    return Delivery.Status.PENDING


def delivery_status(recipient) -> str | None:
    """Return the status of the recipient's delivery, or ``None`` for no delivery.

    ``recipient`` carries the columns of ``recipients_annotate``.
    """
    return _status(
        recipient.sharing_policy,
        recipient.sharing_auto_commit,
        recipient.sharing_push_disabled,
    )


@dataclass(frozen=True)
class Routing:
    """The sharing decisions for many records of one collection, loaded at once.

    For writers of many records in one go (a batch, an import), where annotating
    each record's recipients would cost a query per record.
    """

    policies: dict  # app instance id -> policy
    decisions: dict  # (record id, app instance id) -> (auto_commit, push_disabled)

    def status(self, record_id, app_instance_id) -> str | None:
        """The status of the delivery of a change of the record, or ``None``."""
        auto_commit, push_disabled = self.decisions.get(
            (record_id, app_instance_id), (False, False)
        )
        return _status(
            self.policies.get(app_instance_id, Policy.SHARE), auto_commit, push_disabled
        )


def routing_load(*, organization, collection, record_ids, app_instance_ids) -> Routing:
    """Load the rules and record decisions for these records and apps (2 queries)."""
    policies = SharingRule.objects.filter(
        organization=organization,
        collection=collection,
        app_instance_id__in=app_instance_ids,
    ).values_list("app_instance_id", "policy")
    decisions = RecordSharing.objects.filter(
        record_id__in=record_ids, app_instance_id__in=app_instance_ids
    ).values_list("record_id", "app_instance_id", "auto_commit", "push_disabled")
    return Routing(
        policies=dict(policies),
        decisions={(row[0], row[1]): (row[2], row[3]) for row in decisions},
    )


def deliveries_route(recipients, *, record, organization, build) -> list[Delivery]:
    """Return the deliveries of a change that its recipients may have.

    ``recipients`` is a query of app instances (the decisions come as columns of
    it) or a list (they are loaded with one more query). ``build(recipient)``
    makes the unsaved delivery; one waiting for approval is held, even when the
    app's endpoint is disabled, since nobody has decided to send it yet.
    """
    if isinstance(recipients, QuerySet):
        routed = [
            (recipient, delivery_status(recipient))
            for recipient in recipients_annotate(
                recipients, record=record, organization=organization
            )
        ]
    else:
        routing = routing_load(
            organization=organization,
            collection=record.collection,
            record_ids=[record.pk],
            app_instance_ids=[recipient.pk for recipient in recipients],
        )
        routed = [
            (recipient, routing.status(record.pk, recipient.pk))
            for recipient in recipients
        ]

    deliveries = []
    for recipient, status in routed:
        if status is None:
            continue
        delivery = build(recipient)
        if status == Delivery.Status.HELD:
            delivery.status = Delivery.Status.HELD
            delivery.failure_reason = ""
        deliveries.append(delivery)
    return deliveries


def pull_check(*, record: Record, app_instance: AppInstance | None) -> None:
    """Refuse the write if the organisation disabled the app's changes of the record."""
    if app_instance is None:
        return
    refused = RecordSharing.objects.filter(
        record_id=record.pk, app_instance=app_instance, pull_disabled=True
    )
    if refused.exists():
        raise errors.pull_disabled(record.collection, record.pk, app_instance.uid)


def pull_refused(*, record_ids, app_instance: AppInstance | None) -> set:
    """Return which of the records refuse changes from the app (for bulk writers)."""
    if app_instance is None:
        return set()
    return set(
        RecordSharing.objects.filter(
            record_id__in=record_ids, app_instance=app_instance, pull_disabled=True
        ).values_list("record_id", flat=True)
    )


# Commit: people's decisions for one record


def decider_require(*, principal, organization, group_id: str) -> None:
    """Refuse unless ``principal`` may decide what the organisation shares.

    An Admin or Super Admin decides (the matrix's ``administrate``); apps never
    do, so that no app can approve sharing with itself.
    """
    if principal.acts_as_app or not principal.may("administrate", organization):
        raise errors.sharing_forbidden(group_id)


def _flags_parse(body) -> list[tuple[str, dict]]:
    mappings = body.get("mappings") if isinstance(body, dict) else None
    if not isinstance(mappings, list) or not mappings:
        raise errors.invalid_commit(
            "/mappings",
            'The body must be {"mappings": [{"group_id": "cld-…", "commit": true}]}.',
        )
    parsed = []
    for index, entry in enumerate(mappings):
        pointer = f"/mappings/{index}"
        if not isinstance(entry, dict) or not isinstance(entry.get("group_id"), str):
            raise errors.invalid_commit(
                pointer, f"{pointer} must be an object with a group_id."
            )
        flags = {}
        for name in COMMIT_FLAGS:
            if name not in entry:
                continue
            if not isinstance(entry[name], bool):
                raise errors.invalid_commit(
                    f"{pointer}/{name}", f"{name} is true or false."
                )
            flags[name] = entry[name]
        if flags.get("commit") and flags.get("push_disabled"):
            raise errors.invalid_commit(
                pointer,
                "commit sends the record to the app and push_disabled forbids it; "
                "send one of them.",
            )
        parsed.append((entry["group_id"], flags))
    return parsed


def _instances_named(organization, group_ids, pointer_of):
    found = {
        instance.uid: instance
        for instance in AppInstance.objects.filter(
            organization=organization,
            uid__in=group_ids,
            status__in=AppInstance.ACTIVE_STATUSES,
        )
    }
    for index, group_id in enumerate(group_ids):
        if group_id not in found:
            raise errors.unknown_group(pointer_of(index), group_id, organization.uid)
    return found


def record_commit(*, record: Record, body) -> Record:
    """Apply the ``mappings`` of a commit to the record, as a person decided them.

    Per app instance: the given flags are stored for the record; ``commit`` sends
    the record's held changes to the app (or, when none is held, its current
    version: the Connec! UI's "Send to app") and lifts ``push_disabled``;
    ``push_disabled`` withholds the held changes for good. Every mapping is
    checked before anything is changed.
    """
    mappings = _flags_parse(body)
    organization = record.organization
    instances = _instances_named(
        organization,
        [group_id for group_id, _ in mappings],
        lambda index: f"/mappings/{index}/group_id",
    )

    with transaction.atomic():
        # A write of the record waits for the decision, and the other way round:
        # a change cannot slip in as held between reading and releasing.
        record = Record.objects.select_for_update().get(pk=record.pk)
        now = timezone.now()
        committed, withheld = [], []
        for group_id, flags in mappings:
            instance = instances[group_id]
            _decision_store(record, instance, flags, now)
            if flags.get("commit"):
                committed.append(instance)
            elif flags.get("push_disabled"):
                withheld.append(instance)

        released = _held_release(record, committed, now)
        Delivery.objects.filter(
            record=record, status=Delivery.Status.HELD, app_instance__in=withheld
        ).update(status=Delivery.Status.WITHHELD)
        if released:
            webhooks._wake_after_commit(released)
    logger.info(
        "sharing commit record=%s committed=%s withheld=%s released=%s",
        record.pk,
        [instance.uid for instance in committed],
        [instance.uid for instance in withheld],
        len(released),
    )
    return record


def _decision_store(record, instance, flags, now):
    decision, _ = RecordSharing.objects.get_or_create(
        record=record, app_instance=instance
    )
    for name in _STORED_FLAGS:
        if name in flags:
            setattr(decision, name, flags[name])
    if flags.get("commit"):
        decision.push_disabled = False
    decision.updated_at = now
    decision.save()


def _held_release(record, instances, now) -> list[Delivery]:
    """Let the held deliveries to ``instances`` go; send the record to the others."""
    if not instances:
        return []
    held = list(
        Delivery.objects.filter(
            record=record, status=Delivery.Status.HELD, app_instance__in=instances
        )
    )
    Delivery.objects.filter(pk__in=[delivery.pk for delivery in held]).update(
        status=Delivery.Status.PENDING, next_attempt_at=now
    )
    holders = {delivery.app_instance_id for delivery in held}
    latest = record.history.values_list("transaction_id", flat=True).first()
    sent_now = Delivery.objects.bulk_create(
        Delivery(
            app_instance=instance,
            record=record,
            collection=record.collection,
            transaction_id=latest,
            payload={
                record.collection: [
                    record_json(
                        record,
                        group_id=instance.uid,
                        channel_id=record.organization.uid,
                    )
                ]
            },
            next_attempt_at=now,
            created_at=now,
        )
        for instance in instances
        if instance.pk not in holders
    )
    return [*held, *sent_now]


# Sharing rules of an organisation


def sharing_rules_for_organization(organization):
    """Return the organisation's rules, by collection then app instance."""
    return (
        SharingRule.objects.filter(organization=organization)
        .select_related("app_instance__app")
        .order_by("collection", "app_instance__uid")
    )


def sharing_rules_set(*, organization, body) -> list[SharingRule]:
    """Store the rules of ``{"sharing_rules": [{collection, group_id, policy}]}``.

    Each named (collection, app instance) gets the policy; rules not named stay
    as they are. Every rule is checked before anything is stored.
    """
    rules = body.get("sharing_rules") if isinstance(body, dict) else None
    if not isinstance(rules, list):
        raise errors.invalid_sharing_rule(
            "/sharing_rules",
            'The body must be {"sharing_rules": [{"collection": "invoices", '
            '"group_id": "cld-…", "policy": "ask"}]}.',
        )
    for index, rule in enumerate(rules):
        _rule_check(rule, f"/sharing_rules/{index}")
    instances = _instances_named(
        organization,
        [rule["group_id"] for rule in rules],
        lambda index: f"/sharing_rules/{index}/group_id",
    )

    now = timezone.now()
    with transaction.atomic():
        for rule in rules:
            SharingRule.objects.update_or_create(
                organization=organization,
                collection=rule["collection"],
                app_instance=instances[rule["group_id"]],
                defaults={"policy": rule["policy"], "updated_at": now},
            )
    return list(sharing_rules_for_organization(organization))


def _rule_check(rule, pointer):
    if not isinstance(rule, dict):
        raise errors.invalid_sharing_rule(pointer, f"{pointer} must be an object.")
    collection = rule.get("collection")
    if not isinstance(collection, str) or not collections.exists(collection):
        raise errors.invalid_sharing_rule(
            f"{pointer}/collection",
            f"{collection!r} is not a Connec! collection.",
        )
    if not isinstance(rule.get("group_id"), str):
        raise errors.invalid_sharing_rule(
            f"{pointer}/group_id", "group_id names an app instance (cld-…)."
        )
    if rule.get("policy") not in Policy.values:
        raise errors.invalid_sharing_rule(
            f"{pointer}/policy",
            f"policy is one of {', '.join(Policy.values)}.",
        )


def sharing_rule_json(rule: SharingRule) -> dict:
    return {
        "collection": rule.collection,
        "group_id": rule.app_instance.uid,
        "app_name": rule.app_instance.name or rule.app_instance.app.name,
        "policy": rule.policy,
        "updated_at": rule.updated_at.isoformat().replace("+00:00", "Z"),
    }
