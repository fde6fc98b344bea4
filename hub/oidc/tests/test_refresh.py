"""Refresh tokens: rotated at each use, and a replay revokes the whole family."""

import pytest
from authlib.integrations.base_client import OAuthError
from oauth2_provider.models import RefreshToken

from hub.models import Membership
from hub.oidc.selectors import access_token_lookup
from hub.oidc.tests.conftest import browser_for

pytestmark = pytest.mark.usefixtures("transactional_db")


def userinfo_status(rp, access_token):
    response = rp.oauth(token={"access_token": access_token, "token_type": "Bearer"})
    return response.get(rp.discovery()["userinfo_endpoint"], timeout=10).status_code


def test_a_refresh_rotates_both_tokens_and_keeps_the_company(
    invoicer_oidc, member, second_company, live_server
):
    rp = invoicer_oidc.relying_party
    first, request = rp.sign_in(
        browser_for(live_server, member), group_id=second_company.uid
    )

    second = request.oauth.refresh_token(rp.discovery()["token_endpoint"])
    claims = rp.id_token_claims(second["id_token"], access_token=second["access_token"])

    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    assert "nonce" not in claims
    assert claims["group_uid"] == second_company.uid
    assert claims["group_role"] == "Admin"
    assert access_token_lookup(second["access_token"]).app_instance == second_company
    assert access_token_lookup(first["access_token"]) is None
    assert userinfo_status(rp, first["access_token"]) == 401
    assert userinfo_status(rp, second["access_token"]) == 200


def test_replaying_a_used_refresh_token_is_refused_and_revokes_the_family(
    invoicer_oidc, member, live_server
):
    rp = invoicer_oidc.relying_party
    token_endpoint = rp.discovery()["token_endpoint"]
    first, request = rp.sign_in(browser_for(live_server, member))
    second = request.oauth.refresh_token(token_endpoint)

    with pytest.raises(OAuthError) as replay:
        rp.oauth().refresh_token(token_endpoint, refresh_token=first["refresh_token"])

    assert replay.value.error == "invalid_grant"
    # The thief's replay also ends the session the legitimate app holds.
    assert access_token_lookup(second["access_token"]) is None
    assert userinfo_status(rp, second["access_token"]) == 401
    with pytest.raises(OAuthError) as next_refresh:
        rp.oauth().refresh_token(token_endpoint, refresh_token=second["refresh_token"])
    assert next_refresh.value.error == "invalid_grant"
    assert RefreshToken.objects.filter(revoked__isnull=True).count() == 0


def test_another_family_survives_a_replay(invoicer_oidc, member, live_server):
    rp = invoicer_oidc.relying_party
    token_endpoint = rp.discovery()["token_endpoint"]
    browser = browser_for(live_server, member)
    stolen, request = rp.sign_in(browser)
    request.oauth.refresh_token(token_endpoint)
    other, _ = rp.sign_in(browser)

    with pytest.raises(OAuthError):
        rp.oauth().refresh_token(token_endpoint, refresh_token=stolen["refresh_token"])

    assert access_token_lookup(other["access_token"]) is not None
    assert rp.oauth().refresh_token(
        token_endpoint, refresh_token=other["refresh_token"]
    )


def test_a_refresh_is_refused_once_the_person_may_no_longer_open_the_company(
    invoicer_oidc, member, organization, live_server
):
    rp = invoicer_oidc.relying_party
    token, request = rp.sign_in(browser_for(live_server, member))
    Membership.objects.filter(user=member, organization=organization).delete()

    with pytest.raises(OAuthError) as refusal:
        request.oauth.refresh_token(rp.discovery()["token_endpoint"])

    assert refusal.value.error == "invalid_grant"
    assert RefreshToken.objects.get().revoked is None


def test_a_refresh_is_refused_for_a_deactivated_person(
    invoicer_oidc, member, live_server
):
    rp = invoicer_oidc.relying_party
    token, request = rp.sign_in(browser_for(live_server, member))
    member.is_active = False
    member.save(update_fields=["is_active"])

    with pytest.raises(OAuthError) as refusal:
        request.oauth.refresh_token(rp.discovery()["token_endpoint"])

    assert refusal.value.error == "invalid_grant"
    assert access_token_lookup(token["access_token"]) is None
