import datetime

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from django.utils.timezone import now

from hub import staff
from hub.models import AccessRequest, AuditEvent, User
from hub.tests.factories import UserFactory


@pytest.fixture
def support(db):
    return UserFactory(is_staff=True, admin_role=User.AdminRole.SUPPORT)


@pytest.fixture
def support_client(client, support):
    client.force_login(support)
    return client


def consent(support, customer):
    access_request = staff.access_request_create(requester=support, user=customer)
    return staff.access_request_approve(access_request=access_request, user=customer)


def admin_action(client, action, *users):
    return client.post(
        reverse("admin:hub_user_changelist"),
        {"action": action, "_selected_action": [user.pk for user in users]},
        follow=True,
    )


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def impersonating(client, support, customer):
    consent(support, customer)
    admin_action(client, "impersonate", customer)
    return client


def test_impersonation_without_consent_is_refused_and_changes_nothing(
    support_client, support, owner
):
    # given a request the customer has not answered
    staff.access_request_create(requester=support, user=owner)

    # when the support member tries to impersonate
    response = admin_action(support_client, "impersonate", owner)

    # then the admin says why, and the session stays the support member's own
    assert response.status_code == 200
    assert messages_of(response) == [
        f"{owner.email} has not approved access in the last 24 hours."
    ]
    assert staff.SESSION_IMPERSONATED not in support_client.session
    assert staff.SESSION_IMPERSONATOR not in support_client.session
    assert not AuditEvent.objects.filter(action="impersonation.start").exists()


def test_request_access_action_creates_an_open_request(support_client, support, owner):
    response = admin_action(support_client, "request_access", owner)

    assert messages_of(response) == [f"Access to {owner.email} requested."]
    access_request = AccessRequest.objects.get()
    assert (access_request.requester, access_request.user) == (support, owner)
    assert access_request.status == AccessRequest.Status.REQUESTED


def test_with_consent_the_portal_is_shown_as_the_customer_with_a_banner(
    support_client, support, owner, organization
):
    # given the customer's consent
    consent(support, owner)

    # when the support member impersonates, then opens the organisation page
    started = admin_action(support_client, "impersonate", owner)
    page = support_client.get(f"/orgs/{organization.uid}/")

    # then the portal acts as the customer and says so
    assert started.redirect_chain == [
        ("/", 302),
        (f"/orgs/{organization.uid}/", 302),
    ]
    assert page.status_code == 200
    assert page.wsgi_request.user == owner
    assert page.wsgi_request.impersonator == support
    assert f"You are viewing the portal as {owner.email} —" in page.content.decode()
    assert support_client.session[SESSION_KEY] == str(support.pk)


def test_a_page_without_impersonation_has_no_banner(client, owner, organization):
    client.force_login(owner)

    page = client.get(f"/orgs/{organization.uid}/")

    assert page.wsgi_request.impersonator is None
    assert "You are viewing the portal as" not in page.content.decode()


def test_stop_returns_to_the_staff_member_in_the_admin(
    support_client, support, owner, organization
):
    # given an impersonation under way
    impersonating(support_client, support, owner)

    # when the support member stops it
    response = support_client.post("/impersonation/stop/")
    after = support_client.get("/admin/")

    # then they are back in the admin as themselves
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:hub_user_change", args=[owner.pk])
    assert after.wsgi_request.user == support
    assert after.wsgi_request.impersonator is None
    assert staff.SESSION_IMPERSONATED not in support_client.session
    assert AuditEvent.objects.filter(action="impersonation.stop").count() == 1


def test_stop_needs_a_post(support_client, support, owner):
    impersonating(support_client, support, owner)

    response = support_client.get("/impersonation/stop/")

    assert response.status_code == 405
    assert support_client.session[staff.SESSION_IMPERSONATED] == owner.pk


def test_stop_is_csrf_protected(support, owner):
    # given an impersonation in a client that enforces CSRF checks
    client = Client(enforce_csrf_checks=True)
    client.force_login(support)
    consent(support, owner)
    session = client.session
    session[staff.SESSION_IMPERSONATOR] = support.pk
    session[staff.SESSION_IMPERSONATED] = owner.pk
    session.save()

    # when a POST without a token arrives
    response = client.post("/impersonation/stop/")

    # then it is refused and the impersonation goes on
    assert response.status_code == 403
    assert client.session[staff.SESSION_IMPERSONATED] == owner.pk


def test_once_consent_lapses_the_next_request_ends_the_impersonation(
    support_client, support, owner, organization
):
    # given an impersonation whose consent is now 24 hours old
    impersonating(support_client, support, owner)
    AccessRequest.objects.update(approved_at=now() - datetime.timedelta(hours=24))

    # when the next page is requested
    page = support_client.get("/")

    # then the session is the support member's again
    assert page.wsgi_request.user == support
    assert page.wsgi_request.impersonator is None
    assert staff.SESSION_IMPERSONATED not in support_client.session
    assert AccessRequest.objects.get().status == AccessRequest.Status.EXPIRED
    assert AuditEvent.objects.filter(action="impersonation.stop").count() == 1


def test_staff_cannot_be_impersonated_from_the_admin(support_client, support):
    colleague = UserFactory(is_staff=True, admin_role=User.AdminRole.STAFF)

    response = admin_action(support_client, "impersonate", colleague)

    assert messages_of(response) == ["Platform staff cannot be impersonated."]
    assert staff.SESSION_IMPERSONATED not in support_client.session
    assert AccessRequest.objects.count() == 0


def test_staff_role_is_not_offered_impersonation(client, owner):
    # given a member of staff whose role does not include impersonation
    client.force_login(UserFactory(is_staff=True, admin_role=User.AdminRole.STAFF))
    consent_count = AccessRequest.objects.count()

    # when they try the action anyway
    response = admin_action(client, "impersonate", owner)

    # then the admin does not know it, and nothing changes
    assert messages_of(response) == ["No action selected."]
    assert staff.SESSION_IMPERSONATED not in client.session
    assert AccessRequest.objects.count() == consent_count


def test_a_superuser_may_impersonate_with_consent(client, owner):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(superuser)
    consent(superuser, owner)

    admin_action(client, "impersonate", owner)

    assert client.session[staff.SESSION_IMPERSONATED] == owner.pk
    assert client.session[staff.SESSION_IMPERSONATOR] == superuser.pk


def test_logging_out_while_impersonating_keeps_the_customer_signed_in_to_apps(
    support_client, support, owner
):
    impersonating(support_client, support, owner)
    sso_session = User.objects.get(pk=owner.pk).sso_session

    support_client.post("/logout/")

    assert User.objects.get(pk=owner.pk).sso_session == sso_session
    assert SESSION_KEY not in support_client.session
    assert AuditEvent.objects.filter(action="impersonation.stop").count() == 1


def test_the_admin_stays_the_staff_members_own_while_impersonating(
    support_client, support, owner, organization
):
    # given an impersonation under way
    impersonating(support_client, support, owner)

    # when the support member opens the admin, then the portal
    admin_page = support_client.get("/admin/")
    portal_page = support_client.get(f"/orgs/{organization.uid}/")

    # then the admin is theirs and the portal is the customer's
    assert admin_page.status_code == 200
    assert admin_page.wsgi_request.user == support
    assert admin_page.wsgi_request.impersonator is None
    assert portal_page.wsgi_request.user == owner
