"""Platform staff: what each admin role may do, and impersonation with consent.

Roles (reference §2.1): an ``admin`` may do everything in the Django admin; ``staff``
manage customers (people, organisations and what hangs off them) and only read
the platform's configuration; ``support`` only read, and may impersonate a
customer who consented (§2.18). Staff without a role keep Django's own
permissions, and superusers keep all of them.
"""

import logging

from django.db import transaction
from django.utils.timezone import now

from .audit import audit_record
from .errors import HubError
from .models import (
    AccessRequest,
    AppInstance,
    Membership,
    OrgaInvite,
    Organization,
    Team,
    User,
)

logger = logging.getLogger(__name__)

Role = User.AdminRole

# What ``staff`` may add, change and delete in the admin.
CUSTOMER_MODELS = frozenset(
    {User, Organization, Membership, Team, OrgaInvite, AppInstance}
)

WRITE_ACTIONS = frozenset({"add", "change", "delete"})

# Who may ask a customer for consent and then act as them.
IMPERSONATING_ROLES = frozenset({Role.ADMIN, Role.SUPPORT})


def admin_permitted(user: User, action: str, model, obj=None) -> bool:
    """Tell whether a user with an ``admin_role`` may take ``action`` in the admin.

    ``action`` is one of Django's ``view``, ``add``, ``change`` and ``delete``;
    ``obj`` is the row concerned, if any.
    """
    if action != "view" and action not in WRITE_ACTIONS:
        raise KeyError(f"unknown admin action {action!r}")
    if not user.is_active or not user.admin_role:
        return False
    if user.admin_role == Role.ADMIN or action == "view":
        return True
    if user.admin_role != Role.STAFF or model not in CUSTOMER_MODELS:
        return False

    # Staff manage customers, never each other: that is an admin's call.
    return not (model is User and obj is not None and obj.is_platform_staff)


def impersonation_permitted(user: User) -> bool:
    """Tell whether ``user`` may ask customers for access and act as them."""
    if not user.is_active:
        return False
    return user.is_superuser or user.admin_role in IMPERSONATING_ROLES


def _require_staff(user: User) -> None:
    if not impersonation_permitted(user):
        raise HubError("not_platform_staff")


def _require_customer(user: User) -> None:
    if user.is_platform_staff:
        raise HubError("staff_not_impersonable")


def access_request_create(*, requester: User, user: User) -> AccessRequest:
    """Ask ``user`` for consent to act as them; an open request is reused."""
    _require_staff(requester)
    _require_customer(user)

    access_request, created = AccessRequest.objects.get_or_create(
        requester=requester, user=user, status=AccessRequest.Status.REQUESTED
    )
    if created:
        audit_record(actor=requester, action="access_request.create", target=user)
    return access_request


@transaction.atomic
def _access_request_answer(access_request, user, status):
    access_request = AccessRequest.objects.select_for_update().get(pk=access_request.pk)
    if user.pk != access_request.user_id:
        raise HubError("access_request_not_yours")
    if access_request.status != AccessRequest.Status.REQUESTED:
        raise HubError("access_request_not_open", status=access_request.status)

    access_request.status = status
    stamp = "approved_at" if status == AccessRequest.Status.APPROVED else "denied_at"
    setattr(access_request, stamp, now())
    access_request.save(update_fields=["status", stamp])
    audit_record(
        actor=user,
        action=f"access_request.{status}",
        target=user,
        data={
            "access_request": access_request.pk,
            "requester": access_request.requester_id,
        },
    )
    return access_request


def access_request_approve(*, access_request: AccessRequest, user: User):
    """Consent, as the person concerned, to be impersonated for the next 24 hours."""
    return _access_request_answer(access_request, user, AccessRequest.Status.APPROVED)


def access_request_deny(*, access_request: AccessRequest, user: User):
    """Refuse, as the person concerned, to be impersonated."""
    return _access_request_answer(access_request, user, AccessRequest.Status.DENIED)


def _consent_for(staff: User, target: User) -> AccessRequest | None:
    approved = AccessRequest.objects.filter(
        requester=staff, user=target, status=AccessRequest.Status.APPROVED
    )
    # Lapsed consents are marked on the way, so the admin lists what still holds.
    approved.filter(approved_at__lte=now() - AccessRequest.VALIDITY).update(
        status=AccessRequest.Status.EXPIRED
    )
    return approved.order_by("-approved_at").first()


def impersonation_start(*, staff: User, target: User) -> AccessRequest:
    """Check that ``staff`` may act as ``target`` now, and record that they do.

    Refused for staff targets and without an approved request of the last 24 hours.
    """
    _require_staff(staff)
    _require_customer(target)
    consent = _consent_for(staff, target)
    if consent is None:
        raise HubError("impersonation_not_approved", email=target.email)

    audit_record(
        actor=staff,
        action="impersonation.start",
        target=target,
        data={"access_request": consent.pk, "until": consent.expires_at},
    )
    return consent


def impersonation_stop(*, staff: User, target: User) -> None:
    """Record that ``staff`` stopped acting as ``target``."""
    audit_record(actor=staff, action="impersonation.stop", target=target)


# Session keys: who is being impersonated, and who to return to afterwards.
SESSION_IMPERSONATED = "hub_impersonated_user_id"
SESSION_IMPERSONATOR = "hub_impersonator_user_id"


def session_impersonation_begin(request, target: User) -> None:
    """Act as ``target`` in this session; the staff member stays logged in."""
    impersonation_start(staff=request.user, target=target)
    request.session[SESSION_IMPERSONATOR] = request.user.pk
    request.session[SESSION_IMPERSONATED] = target.pk


def session_impersonation_end(request) -> None:
    """Return the session to the staff member who was impersonating."""
    target_id = request.session.pop(SESSION_IMPERSONATED, None)
    staff_id = request.session.pop(SESSION_IMPERSONATOR, None)
    if target_id is None:
        return

    staff = User.objects.get(pk=staff_id)
    impersonation_stop(staff=staff, target=User.objects.get(pk=target_id))


def session_impersonated_user(request) -> User | None:
    """Return whom the session acts as, ending it once the consent has lapsed."""
    target_id = request.session.get(SESSION_IMPERSONATED)
    staff_id = request.session.get(SESSION_IMPERSONATOR)
    if target_id is None or staff_id != request.user.pk:
        return None

    target = User.objects.get(pk=target_id)
    # A revoked role ends the impersonation as surely as a lapsed consent.
    if not impersonation_permitted(request.user) or (
        _consent_for(request.user, target) is None
    ):
        session_impersonation_end(request)
        return None
    return target
