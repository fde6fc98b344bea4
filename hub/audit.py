"""The audit trail: who did what to which thing, for operators to account for."""

import json
import logging

from django.core.serializers.json import DjangoJSONEncoder

from .models import AuditEvent, Organization

logger = logging.getLogger(__name__)


def _organization_of(target):
    if isinstance(target, Organization):
        return target
    organization_id = getattr(target, "organization_id", None)
    return Organization(pk=organization_id) if organization_id else None


def _plain(data):
    # Dates, decimals and UUIDs in the data are stored as the text they print as.
    return json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder))


def audit_record(
    *,
    actor,
    action: str,
    target=None,
    organization: Organization | None = None,
    data: dict | None = None,
) -> AuditEvent:
    """Record that ``actor`` took ``action`` on ``target``.

    ``action`` is a stable dotted code (``admin.change``, ``membership.remove``,
    ``impersonation.start``). The organisation defaults to the target's own.
    """
    event = AuditEvent.objects.create(
        actor=actor,
        actor_email=getattr(actor, "email", ""),
        action=action,
        target_type=target._meta.label if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        organization=organization or _organization_of(target),
        data=_plain(data),
    )
    logger.info(
        "audit action=%s actor=%s target=%s:%s",
        action,
        getattr(actor, "pk", None),
        event.target_type,
        event.target_id,
    )
    return event
