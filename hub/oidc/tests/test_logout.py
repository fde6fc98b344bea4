"""RP-initiated logout ends the hub session and the person's tokens."""

from urllib.parse import quote

import pytest

from hub.oidc.selectors import access_token_lookup
from hub.oidc.tests.conftest import LOGOUT_URI, browser_for

pytestmark = pytest.mark.usefixtures("transactional_db")


def test_logout_from_an_app_ends_the_hub_session_and_its_tokens(
    invoicer_oidc, member, live_server
):
    rp = invoicer_oidc.relying_party
    browser = browser_for(live_server, member)
    token, _ = rp.sign_in(browser)
    member.refresh_from_db()
    session_before = member.sso_session
    end_session = rp.discovery()["end_session_endpoint"]

    response = browser.get(
        f"{end_session}?id_token_hint={token['id_token']}"
        f"&post_logout_redirect_uri={quote(LOGOUT_URI)}&state=bye",
        allow_redirects=False,
    )

    assert response.status_code == 302
    assert response.headers["Location"] == f"{LOGOUT_URI}?state=bye"
    member.refresh_from_db()
    assert member.sso_session != session_before
    assert access_token_lookup(token["access_token"]) is None
    again = browser.get(rp.authorization_request().url, allow_redirects=False)
    assert again.headers["Location"].startswith("/login/")


def test_logout_refuses_an_unregistered_return_address(
    invoicer_oidc, member, live_server
):
    rp = invoicer_oidc.relying_party
    browser = browser_for(live_server, member)
    token, _ = rp.sign_in(browser)
    member.refresh_from_db()
    session_before = member.sso_session

    response = browser.get(
        f"{rp.discovery()['end_session_endpoint']}?id_token_hint={token['id_token']}"
        f"&post_logout_redirect_uri={quote(LOGOUT_URI + 'x')}",
        allow_redirects=False,
    )

    assert response.status_code == 400
    member.refresh_from_db()
    assert member.sso_session == session_before
    assert access_token_lookup(token["access_token"]) is not None


def test_logout_naming_an_unknown_client_is_refused(member, client):
    client.force_login(member)
    member.refresh_from_db()
    session_before = member.sso_session

    response = client.get("/o/logout/", {"client_id": "no-such-client"})

    assert response.status_code == 400
    member.refresh_from_db()
    assert member.sso_session == session_before
