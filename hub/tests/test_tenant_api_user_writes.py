"""Tenant API: opening accounts (tenant only) and changing profiles."""

import pytest

from hub.models import User
from hub.tests.factories import personas_for
from hub.tests.tenant_api import API, jsonapi_send, session_client

NEW_USER = {
    "email": "Kim@Example.TEST",
    "password": "a-long-enough-secret",
    "name": "Kim",
    "surname": "Lee",
    "locale": "fr-CA",
    "timezone": "America/Toronto",
}


@pytest.fixture
def people(acme):
    return personas_for(acme)


def test_the_tenant_opens_an_account_in_its_customer_base(frontends, people):
    # when the second frontend of the shared base creates a user
    response = jsonapi_send(
        frontends[1].client(), "post", f"{API}/users", NEW_USER, type="users"
    )

    # then the person joins the shared base, with a hashed password
    assert response.status_code == 201
    body = response.json()["data"]
    user = User.objects.get(uid=body["id"])
    assert body["attributes"]["email"] == "Kim@example.test"
    assert (user.name, user.locale, user.timezone) == (
        "Kim",
        "fr-CA",
        "America/Toronto",
    )
    assert user.customer_base == frontends[0].tenant.customer_base
    assert user.password != NEW_USER["password"]
    assert user.password.startswith("md5$")
    assert user.check_password(NEW_USER["password"]) is True
    assert "password" not in body["attributes"]


def test_an_address_already_taken_is_refused_whatever_its_case(frontends, people):
    # when the tenant creates a user with the member's address in capitals
    response = jsonapi_send(
        frontends[0].client(),
        "post",
        f"{API}/users",
        {**NEW_USER, "email": people.member.email.upper()},
    )

    # then it is refused and no second account exists
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "email_taken"
    assert User.objects.filter(email__iexact=people.member.email).count() == 1


def test_a_weak_password_is_refused_with_a_pointer(frontends):
    response = jsonapi_send(
        frontends[0].client(),
        "post",
        f"{API}/users",
        {**NEW_USER, "password": "password"},
    )

    assert response.status_code == 422
    errors = response.json()["errors"]
    assert {error["source"]["pointer"] for error in errors} == {
        "/data/attributes/password"
    }
    assert not User.objects.filter(email__iexact=NEW_USER["email"]).exists()


@pytest.mark.parametrize("missing", ["email", "password"])
def test_a_user_needs_an_email_and_a_password(frontends, missing):
    attributes = {key: value for key, value in NEW_USER.items() if key != missing}

    response = jsonapi_send(frontends[0].client(), "post", f"{API}/users", attributes)

    assert response.status_code == 422
    assert response.json()["errors"][0]["source"] == {
        "pointer": f"/data/attributes/{missing}"
    }
    assert User.objects.filter(name="Kim").count() == 0


@pytest.mark.parametrize("attribute", ["sso_session", "is_staff", "admin_role"])
def test_protected_attributes_cannot_be_set_at_creation(frontends, attribute):
    response = jsonapi_send(
        frontends[0].client(), "post", f"{API}/users", {**NEW_USER, attribute: "x"}
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "unknown_attribute"
    assert User.objects.filter(name="Kim").count() == 0


@pytest.mark.parametrize("persona", ["owner", "member", "outsider"])
def test_a_person_may_not_open_accounts(people, persona):
    # when a person of the base creates a user with their own session
    session = getattr(people, persona).sso_session
    response = jsonapi_send(session_client(session), "post", f"{API}/users", NEW_USER)

    # then only tenant credentials may, and nobody was created
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "tenant_credentials_required"
    assert User.objects.filter(name="Kim").count() == 0


def test_the_tenant_updates_anyones_profile(frontends, people):
    response = jsonapi_send(
        frontends[1].client(),
        "patch",
        f"{API}/users/{people.member.uid}",
        {"phone": "+61 2 5550 1234", "timezone": "Australia/Sydney"},
    )

    assert response.status_code == 200
    assert response.json()["data"]["attributes"]["timezone"] == "Australia/Sydney"
    people.member.refresh_from_db()
    assert (people.member.phone, people.member.timezone) == (
        "+61 2 5550 1234",
        "Australia/Sydney",
    )


def test_a_person_updates_their_own_profile(people):
    response = jsonapi_send(
        session_client(people.member.sso_session),
        "patch",
        f"{API}/users/{people.member.uid}",
        {"name": "Robin"},
    )

    assert response.status_code == 200
    people.member.refresh_from_db()
    assert people.member.name == "Robin"


@pytest.mark.parametrize(
    ("persona", "status"),
    # The owner sees the member as a colleague; the outsider does not see them.
    [("owner", 403), ("admin", 403), ("outsider", 404)],
)
def test_a_person_may_not_update_someone_elses_profile(people, persona, status):
    response = jsonapi_send(
        session_client(getattr(people, persona).sso_session),
        "patch",
        f"{API}/users/{people.member.uid}",
        {"name": "Hijacked"},
    )

    assert response.status_code == status
    people.member.refresh_from_db()
    assert people.member.name == "Pat"


def test_another_base_cannot_update_a_profile(frontends, people):
    response = jsonapi_send(
        frontends[2].client(),
        "patch",
        f"{API}/users/{people.member.uid}",
        {"name": "Hijacked"},
    )

    assert response.status_code == 404
    people.member.refresh_from_db()
    assert people.member.name == "Pat"


@pytest.mark.parametrize(
    ("attributes", "status", "code"),
    [
        ({"email": "new@example.test"}, 400, "unknown_attribute"),
        ({"password": "another-long-secret"}, 400, "unknown_attribute"),
        ({"timezone": "Mars/Base"}, 422, "invalid_attribute"),
        # JSON null in a column that may be blank but never null
        ({"phone": None}, 422, "invalid_attribute"),
        ({"name": None}, 422, "invalid_attribute"),
    ],
)
def test_a_profile_update_refuses_what_it_cannot_take(
    frontends, people, attributes, status, code
):
    before = User.objects.values().get(pk=people.member.pk)

    response = jsonapi_send(
        frontends[0].client(), "patch", f"{API}/users/{people.member.uid}", attributes
    )

    assert response.status_code == status
    assert response.json()["errors"][0]["code"] == code
    assert User.objects.values().get(pk=people.member.pk) == before


@pytest.mark.parametrize("attributes", [5, "name", ["name"], [["name"]]])
def test_attributes_that_are_no_object_are_refused(frontends, people, attributes):
    before = User.objects.values().get(pk=people.member.pk)

    response = (
        frontends[0]
        .client()
        .patch(
            f"{API}/users/{people.member.uid}",
            {"data": {"type": "users", "attributes": attributes}},
            format="json",
        )
    )

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["code"] == "invalid_document"
    assert error["source"] == {"pointer": "/data/attributes"}
    assert User.objects.values().get(pk=people.member.pk) == before


def test_a_new_account_with_a_null_profile_field_is_refused(frontends, people):
    before = User.objects.count()

    response = jsonapi_send(
        frontends[0].client(), "post", f"{API}/users", {**NEW_USER, "surname": None}
    )

    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["code"] == "invalid_attribute"
    assert error["source"] == {"pointer": "/data/attributes/surname"}
    assert User.objects.count() == before
