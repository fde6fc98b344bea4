import datetime

import pytest
from django.utils.timezone import now

from hub import staff
from hub.errors import HubError
from hub.models import AccessRequest, AuditEvent, User
from hub.tests.factories import UserFactory


@pytest.fixture
def support(db):
    return UserFactory(is_staff=True, admin_role=User.AdminRole.SUPPORT)


@pytest.fixture
def customer(db):
    return UserFactory()


def approved(support, customer):
    access_request = staff.access_request_create(requester=support, user=customer)
    return staff.access_request_approve(access_request=access_request, user=customer)


def test_impersonation_starts_after_approval_and_is_audited(support, customer):
    # given the customer approved the support member's request
    access_request = approved(support, customer)

    # when the support member starts impersonating
    consent = staff.impersonation_start(staff=support, target=customer)

    # then the consent is the approved request and the start is on record
    assert consent == access_request
    assert consent.expires_at == consent.approved_at + datetime.timedelta(hours=24)
    event = AuditEvent.objects.get(action="impersonation.start")
    assert (event.actor, event.target_id) == (support, str(customer.pk))


def test_impersonation_is_refused_without_approval(support, customer):
    staff.access_request_create(requester=support, user=customer)

    with pytest.raises(HubError) as refusal:
        staff.impersonation_start(staff=support, target=customer)

    assert refusal.value.code == "impersonation_not_approved"
    assert not AuditEvent.objects.filter(action="impersonation.start").exists()


def test_an_approval_older_than_a_day_has_expired(support, customer):
    # given an approval of 24 hours ago
    access_request = approved(support, customer)
    AccessRequest.objects.filter(pk=access_request.pk).update(
        approved_at=now() - datetime.timedelta(hours=24)
    )

    # when impersonation is attempted
    with pytest.raises(HubError) as refusal:
        staff.impersonation_start(staff=support, target=customer)

    # then it is refused and the request is marked expired
    assert refusal.value.code == "impersonation_not_approved"
    assert AccessRequest.objects.get().status == AccessRequest.Status.EXPIRED


def test_a_denied_request_does_not_allow_impersonation(support, customer):
    access_request = staff.access_request_create(requester=support, user=customer)

    staff.access_request_deny(access_request=access_request, user=customer)

    assert AccessRequest.objects.get().status == AccessRequest.Status.DENIED
    with pytest.raises(HubError):
        staff.impersonation_start(staff=support, target=customer)


def test_only_the_person_concerned_answers_a_request(support, customer):
    access_request = staff.access_request_create(requester=support, user=customer)

    with pytest.raises(HubError) as refusal:
        staff.access_request_approve(access_request=access_request, user=support)

    assert refusal.value.code == "access_request_not_yours"
    assert AccessRequest.objects.get().status == AccessRequest.Status.REQUESTED


def test_staff_cannot_be_impersonated(support):
    colleague = UserFactory(is_staff=True, admin_role=User.AdminRole.STAFF)

    with pytest.raises(HubError) as refusal:
        staff.access_request_create(requester=support, user=colleague)
    with pytest.raises(HubError):
        staff.impersonation_start(staff=support, target=colleague)

    assert refusal.value.code == "staff_not_impersonable"
    assert AccessRequest.objects.count() == 0


def test_a_customer_cannot_ask_for_access(customer):
    other = UserFactory()

    with pytest.raises(HubError) as refusal:
        staff.access_request_create(requester=customer, user=other)

    assert refusal.value.code == "not_platform_staff"
    assert AccessRequest.objects.count() == 0


def test_the_session_acts_as_the_customer_until_stopped(rf, support, customer):
    # given a support member's session and the customer's consent
    approved(support, customer)
    request = rf.get("/")
    request.user = support
    request.session = {}

    # when impersonation begins, then ends
    staff.session_impersonation_begin(request, customer)
    during = staff.session_impersonated_user(request)
    staff.session_impersonation_end(request)

    # then the session acted as the customer in between and returns to the staff
    assert during == customer
    assert staff.session_impersonated_user(request) is None
    assert request.session == {}
    actions = list(
        AuditEvent.objects.order_by("at", "id").values_list("action", flat=True)
    )
    assert actions == [
        "access_request.create",
        "access_request.approved",
        "impersonation.start",
        "impersonation.stop",
    ]
