import pytest

from hub import staff
from hub.models import AccessRequest, AuditEvent, User
from hub.tests.factories import UserFactory


@pytest.fixture
def support(db):
    return UserFactory(
        email="support@maestrano.test",
        is_staff=True,
        admin_role=User.AdminRole.SUPPORT,
    )


@pytest.fixture
def access_request(support, owner):
    return staff.access_request_create(requester=support, user=owner)


def test_the_page_lists_the_pending_requests_of_the_signed_in_person(
    client, owner, access_request
):
    # given a request to someone else and one already answered
    other = staff.access_request_create(
        requester=access_request.requester, user=UserFactory()
    )
    answered = staff.access_request_create(
        requester=UserFactory(is_staff=True, admin_role=User.AdminRole.ADMIN),
        user=owner,
    )
    staff.access_request_deny(access_request=answered, user=owner)
    client.force_login(owner)

    # when the customer opens the page
    response = client.get("/access-requests/")

    # then only their open request is listed
    assert response.status_code == 200
    assert list(response.context["access_requests"]) == [access_request]
    assert "support@maestrano.test" in response.content.decode()
    assert other not in response.context["access_requests"]


def test_the_customer_approves_a_request(client, owner, access_request):
    client.force_login(owner)

    response = client.post(f"/access-requests/{access_request.pk}/approve/")

    assert response.status_code == 302
    assert response["Location"] == "/access-requests/"
    access_request.refresh_from_db()
    assert access_request.status == AccessRequest.Status.APPROVED
    assert AuditEvent.objects.filter(action="access_request.approved").count() == 1


def test_the_customer_denies_a_request(client, owner, access_request):
    client.force_login(owner)

    response = client.post(f"/access-requests/{access_request.pk}/deny/")

    assert response.status_code == 302
    access_request.refresh_from_db()
    assert access_request.status == AccessRequest.Status.DENIED
    assert access_request.approved_at is None


def test_someone_else_cannot_answer_the_request(client, access_request):
    client.force_login(UserFactory())

    response = client.post(f"/access-requests/{access_request.pk}/approve/")

    assert response.status_code == 404
    access_request.refresh_from_db()
    assert access_request.status == AccessRequest.Status.REQUESTED


def test_an_answered_request_cannot_be_answered_again(client, owner, access_request):
    staff.access_request_deny(access_request=access_request, user=owner)
    client.force_login(owner)

    response = client.post(f"/access-requests/{access_request.pk}/approve/")

    assert response.status_code == 409
    assert response.context["error"] == (
        "This access request is denied and can no longer be answered."
    )
    access_request.refresh_from_db()
    assert access_request.status == AccessRequest.Status.DENIED


def test_answering_needs_a_post(client, owner, access_request):
    client.force_login(owner)

    response = client.get(f"/access-requests/{access_request.pk}/approve/")

    assert response.status_code == 405
    access_request.refresh_from_db()
    assert access_request.status == AccessRequest.Status.REQUESTED


def test_staff_acting_as_the_customer_cannot_answer_for_them(
    client, support, owner, access_request
):
    # given a second staff member impersonating the customer with their consent
    admin = UserFactory(is_staff=True, admin_role=User.AdminRole.ADMIN)
    consent = staff.access_request_create(requester=admin, user=owner)
    staff.access_request_approve(access_request=consent, user=owner)
    client.force_login(admin)
    session = client.session
    session[staff.SESSION_IMPERSONATOR] = admin.pk
    session[staff.SESSION_IMPERSONATED] = owner.pk
    session.save()

    # when they try to approve the support member's request
    response = client.post(f"/access-requests/{access_request.pk}/approve/")

    # then it is refused and the request stays open
    assert response.status_code == 403
    access_request.refresh_from_db()
    assert access_request.status == AccessRequest.Status.REQUESTED


def test_every_page_links_to_the_staff_access_requests(client, owner):
    client.force_login(owner)

    response = client.get("/", follow=True)

    assert response.status_code == 200
    assert '<a href="/access-requests/">Staff access</a>' in response.content.decode()
