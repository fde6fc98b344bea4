"""Where apps send people after logging out, or after refusing them."""

import lxml.html
import pytest

from hub.models import User


@pytest.fixture
def signed_in(client, owner):
    client.force_login(owner)
    return User.objects.get(pk=owner.pk).sso_session


def _session_of(user):
    return User.objects.get(pk=user.pk).sso_session


def test_logging_out_of_an_app_ends_the_hub_session(client, owner, signed_in):
    response = client.get("/hub/app_logout", {"user_uid": owner.uid})

    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert "_auth_user_id" not in client.session
    assert _session_of(owner) != signed_in


def test_the_session_check_answers_invalid_after_an_app_logout(
    client, owner, signed_in
):
    check = f"/hub/api/v1/auth/saml/{owner.uid}"
    before = client.get(check, {"session": signed_in}).json()["valid"]

    client.get("/hub/app_logout", {"user_uid": owner.uid})

    after = client.get(check, {"session": signed_in}).json()["valid"]
    assert (before, after) == (True, False)


def test_an_app_in_virtual_mode_names_the_person_by_virtual_uid(
    client, owner, signed_in, invoicer
):
    virtual_uid = f"{owner.uid}.{invoicer.group_id}"

    client.get("/hub/app_logout", {"user_uid": virtual_uid})

    assert "_auth_user_id" not in client.session
    assert _session_of(owner) != signed_in


@pytest.mark.parametrize("query", [{}, {"user_uid": "usr-someoneelse"}])
def test_a_logout_link_for_someone_else_leaves_the_person_signed_in(
    client, owner, signed_in, query
):
    response = client.get("/hub/app_logout", query)

    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert client.session["_auth_user_id"] == str(owner.pk)
    assert _session_of(owner) == signed_in


def test_logging_out_when_not_signed_in_just_shows_the_login_page(client, owner):
    before = _session_of(owner)

    response = client.get("/hub/app_logout", {"user_uid": owner.uid}, follow=True)

    assert response.status_code == 200
    assert response.redirect_chain == [("/login/", 302)]
    assert response.templates[0].name == "portal/login.html"
    assert _session_of(owner) == before


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({}, "You may not use this app with your current access."),
        ({"err": "internal"}, "The app could not finish signing you in."),
    ],
)
def test_the_access_unauthorised_page_is_a_friendly_403(client, db, query, message):
    response = client.get("/hub/app_access_unauthorized", query)

    document = lxml.html.fromstring(response.content)
    assert response.status_code == 403
    assert document.findtext(".//h1") == "Access not authorised"
    assert document.findtext(".//section/p").startswith(message)
    assert document.findtext(".//code") == "app_access_unauthorized"
