from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import Resolver404, resolve

from hub import identity
from hub.api import session_check
from hub.tests.factories import UserFactory


def check(uid, session=None, client=None):
    query = {} if session is None else {"session": session}
    return (client or Client()).get(f"/hub/api/v1/auth/saml/{uid}", query)


@pytest.fixture
def person(db):
    return UserFactory(email="pat@example.test")


def test_the_current_session_is_valid_and_rechecked_in_three_minutes(person):
    # when an app checks the person's current session
    before = datetime.now(UTC).replace(microsecond=0)
    response = check(person.uid, person.sso_session)
    after = datetime.now(UTC)

    # then it is valid, to be checked again three minutes later (UTC, ISO 8601)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"valid", "recheck"}
    assert body["valid"] is True
    assert body["recheck"].endswith("Z")
    recheck = datetime.fromisoformat(body["recheck"])
    assert before + timedelta(minutes=3) <= recheck <= after + timedelta(minutes=3)


@pytest.mark.parametrize(
    "suffix",
    [".cld-abc123", ".cld-abc123@apps.example.test", ".anything.after.the.dot"],
)
def test_virtual_uids_and_emails_name_the_person_before_the_first_dot(person, suffix):
    response = check(f"{person.uid}{suffix}", person.sso_session)

    assert response.status_code == 200
    assert response.json()["valid"] is True


@pytest.mark.parametrize(
    "session", [None, "", "not-the-session", "x" * 500, "'; DROP TABLE hub_user; --"]
)
def test_a_missing_or_wrong_session_is_not_valid(person, session):
    response = check(person.uid, session)

    assert response.status_code == 200
    assert response.json()["valid"] is False


def test_another_persons_session_is_not_valid(person):
    other = UserFactory()

    response = check(person.uid, other.sso_session)

    assert response.json()["valid"] is False


def test_an_unknown_person_is_not_valid(person):
    response = check("usr-nobody", person.sso_session)

    assert response.status_code == 200
    assert response.json()["valid"] is False


def test_a_deactivated_person_is_not_valid(person):
    person.is_active = False
    person.save(update_fields=["is_active"])

    response = check(person.uid, person.sso_session)

    assert response.json()["valid"] is False


def test_after_logout_the_session_is_no_longer_valid(person):
    # given the person logged in to the portal, with the session apps were given
    browser = Client()
    assert browser.login(username=person.email, password="a-good-password")
    person.refresh_from_db()
    session = person.sso_session
    assert check(person.uid, session).json()["valid"] is True

    # when they log out of the portal
    response = browser.post("/logout/")

    # then the very next check says the session is over
    assert response.status_code == 302
    assert check(person.uid, session).json()["valid"] is False


def test_a_new_login_ends_the_previous_session(person):
    session = person.sso_session

    Client().login(username=person.email, password="a-good-password")

    assert check(person.uid, session).json()["valid"] is False


def test_the_check_is_one_query_and_touches_no_session(
    person, django_assert_num_queries
):
    with django_assert_num_queries(1):
        response = check(person.uid, person.sso_session)

    assert response.json()["valid"] is True
    assert "Set-Cookie" not in response


def test_the_check_needs_no_credentials_and_ignores_them(person):
    client = Client(HTTP_AUTHORIZATION="Basic bm9ib2R5Om5vdGhpbmc=")

    response = check(person.uid, person.sso_session, client=client)

    assert response.json()["valid"] is True


def test_only_get_is_answered(person):
    response = Client().post(
        f"/hub/api/v1/auth/saml/{person.uid}?session={person.sso_session}"
    )

    assert response.status_code == 405


@pytest.mark.parametrize(
    "path", ["metadata", "metadata/tnt-abc", "cld-abc123", "org-abc123", "usr-"]
)
def test_paths_that_name_no_person_are_left_to_other_routes(path):
    try:
        view = resolve(f"/hub/api/v1/auth/saml/{path}").func
    except Resolver404:
        view = None

    assert view is not session_check.session_check


def test_a_dead_database_connection_is_replaced_and_the_answer_still_given(
    transactional_db,
):
    # given a person, and the kept database connection dead under Django's feet
    person = UserFactory()
    connection.ensure_connection()
    dead = connection.connection
    dead.close()

    # when the session is checked
    valid = identity.sso_session_current(person.uid, person.sso_session)

    # then the check reconnected and answered
    assert valid is True
    assert connection.connection is not dead
