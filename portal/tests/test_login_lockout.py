from hub import services
from hub.tests.factories import UserFactory


def login(client, email, password):
    return client.post("/login/", {"username": email, "password": password})


def test_repeated_wrong_passwords_lock_the_portal_login(client, db):
    person = UserFactory(email="pat@acme.test")

    for _ in range(services.MAX_FAILED_LOGINS):
        assert login(client, "pat@acme.test", "wrong").status_code == 200
    refused = login(client, "pat@acme.test", "a-good-password")

    assert refused.status_code == 200
    assert "_auth_user_id" not in client.session
    person.refresh_from_db()
    assert person.locked_until is not None


def test_the_right_password_signs_in_and_clears_the_failures(client, db):
    person = UserFactory(email="pat@acme.test")
    login(client, "pat@acme.test", "wrong")

    response = login(client, "pat@acme.test", "a-good-password")

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(person.pk)
    person.refresh_from_db()
    assert person.failed_login_count == 0


def test_an_unknown_address_is_refused(client, db):
    response = login(client, "nobody@acme.test", "a-good-password")

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_logging_out_ends_the_hub_session_apps_check(client, db):
    person = UserFactory(email="pat@acme.test")
    login(client, "pat@acme.test", "a-good-password")
    person.refresh_from_db()
    session_at_login = person.sso_session

    response = client.post("/logout/")

    person.refresh_from_db()
    assert response.status_code == 302
    assert person.sso_session != session_at_login
    assert "_auth_user_id" not in client.session
