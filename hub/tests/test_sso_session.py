import pytest
from django.contrib.auth import authenticate

from hub import services
from hub.errors import HubError
from hub.tests.factories import UserFactory


@pytest.fixture
def person(db):
    return UserFactory(email="pat@example.test")


def test_every_person_gets_a_session_of_their_own(person):
    # given another person
    other = UserFactory()

    # then each has a long random session, different from the other's
    assert len(person.sso_session) == 43
    assert other.sso_session != person.sso_session


def test_a_successful_login_issues_a_new_session(person):
    # given the person's session before logging in
    before = person.sso_session

    # when they log in with their password
    user = services.user_login_attempt(
        customer_base=None, email=person.email, password="a-good-password"
    )

    # then the session is a new one, and it is stored
    person.refresh_from_db()
    assert person.sso_session == user.sso_session
    assert person.sso_session != before


def test_a_failed_login_keeps_the_session(person):
    # given the person's session before a wrong password
    before = person.sso_session

    # when someone tries a wrong password
    with pytest.raises(HubError):
        services.user_login_attempt(
            customer_base=None, email=person.email, password="wrong"
        )

    # then the session is unchanged
    person.refresh_from_db()
    assert person.sso_session == before


def test_a_django_login_issues_a_new_session(person):
    # given the person's session before logging in to a Django page
    before = person.sso_session

    # when Django authenticates them (portal, admin)
    user = authenticate(username=person.email, password="a-good-password")

    # then the login went through the hub and rotated the session
    person.refresh_from_db()
    assert user == person
    assert person.sso_session != before


def test_rotating_the_session_replaces_it(person):
    # given the person's session
    before = person.sso_session

    # when it is rotated, as at logout
    services.user_sso_session_rotate(user=person)

    # then a new one is stored
    person.refresh_from_db()
    assert len(person.sso_session) == 43
    assert person.sso_session != before
