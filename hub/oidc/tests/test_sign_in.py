"""Code flow with PKCE, ID token and userinfo, as a real OpenID Connect client sees."""

from datetime import UTC, datetime, timedelta

import pytest
import requests
from authlib.integrations.base_client import OAuthError
from oauth2_provider.models import AccessToken, Grant

from hub.oidc.tests.conftest import REDIRECT_URI, browser_for

pytestmark = pytest.mark.usefixtures("transactional_db")

VOLATILE = {"iat", "exp", "auth_time", "jti", "at_hash", "mno_session_recheck"}


def expected_claims(user, instance, organization, **overrides):
    alias = f"{user.uid}.{instance.uid}"
    return {
        "sub": user.uid,
        "mno_session": user.sso_session,
        "given_name": "Ada",
        "family_name": "Lovelace",
        "locale": "fr-CA",
        "zoneinfo": "America/Toronto",
        "email": "ada@example.test",
        "group_uid": instance.uid,
        "group_org_uid": organization.uid,
        "group_role": "Member",
        "group_name": "Acme Pty",
        "group_currency": "USD",
        "group_timezone": "UTC",
        "group_country": "US",
        "virtual_uid": alias,
        "virtual_email": f"{alias}@apps.maestrano.test",
        **overrides,
    }


def test_discovery_publishes_the_endpoints_and_the_signing_key(
    invoicer_oidc, live_server
):
    rp = invoicer_oidc.relying_party

    discovery = rp.discovery()
    jwks = requests.get(discovery["jwks_uri"], timeout=10).json()

    base = f"{live_server.url}/o"
    assert discovery["issuer"] == base
    assert discovery["authorization_endpoint"] == f"{base}/authorize/"
    assert discovery["token_endpoint"] == f"{base}/token/"
    assert discovery["userinfo_endpoint"] == f"{base}/userinfo/"
    assert discovery["end_session_endpoint"] == f"{base}/logout/"
    assert discovery["jwks_uri"] == f"{base}/.well-known/jwks.json"
    assert discovery["response_types_supported"] == ["code"]
    assert discovery["code_challenge_methods_supported"] == ["S256"]
    assert "RS256" in discovery["id_token_signing_alg_values_supported"]
    assert "group_uid" in discovery["claims_supported"]
    assert [(key["kty"], key["alg"], key["use"]) for key in jwks["keys"]] == [
        ("RSA", "RS256", "sig")
    ]


def test_an_id_token_lives_exactly_its_lifetime_from_its_issue(
    invoicer_oidc, member, live_server, monkeypatch
):
    from django.utils import timezone
    from oauth2_provider import oauth2_validators

    class LateClock:
        """django-oauth-toolkit's clock, read two seconds after oauthlib's."""

        def __getattr__(self, name):
            return getattr(timezone, name)

        def now(self):
            return timezone.now() + timedelta(seconds=2)

    monkeypatch.setattr(oauth2_validators, "timezone", LateClock())
    rp = invoicer_oidc.relying_party

    token, request = rp.sign_in(browser_for(live_server, member))

    claims = rp.id_token_claims(
        token["id_token"], nonce=request.nonce, access_token=token["access_token"]
    )
    assert claims["exp"] - claims["iat"] == 3600


def test_code_flow_with_pkce_signs_in_to_the_only_company(
    invoicer_oidc, member, organization, live_server
):
    rp = invoicer_oidc.relying_party
    browser = browser_for(live_server, member)
    member.refresh_from_db()
    before = datetime.now(UTC)

    token, request = rp.sign_in(browser)
    claims = rp.id_token_claims(
        token["id_token"], nonce=request.nonce, access_token=token["access_token"]
    )

    assert token["token_type"] == "Bearer"
    assert token["scope"] == "openid profile email group"
    assert token["expires_in"] == 3600
    assert claims["exp"] - claims["iat"] == 3600
    recheck = datetime.fromisoformat(claims["mno_session_recheck"])
    assert before + timedelta(minutes=3) - timedelta(seconds=2) <= recheck
    assert recheck <= datetime.now(UTC) + timedelta(minutes=3)
    assert {k: v for k, v in claims.items() if k not in VOLATILE} == {
        "iss": f"{live_server.url}/o",
        "aud": rp.client_id,
        "nonce": request.nonce,
        **expected_claims(member, invoicer_oidc.instance, organization),
    }


def test_userinfo_answers_the_same_claims_for_the_access_token(
    invoicer_oidc, member, organization, live_server
):
    rp = invoicer_oidc.relying_party
    token, request = rp.sign_in(browser_for(live_server, member))
    member.refresh_from_db()

    userinfo = request.oauth.get(rp.discovery()["userinfo_endpoint"], timeout=10)

    assert userinfo.status_code == 200
    body = userinfo.json()
    assert body.pop("mno_session_recheck").endswith("Z")
    assert body == expected_claims(member, invoicer_oidc.instance, organization)


def test_scopes_not_asked_for_release_no_claims(invoicer_oidc, member, live_server):
    rp = invoicer_oidc.relying_party
    member.refresh_from_db()

    token, request = rp.sign_in(browser_for(live_server, member), scope="openid")
    claims = rp.id_token_claims(token["id_token"], nonce=request.nonce)

    assert token["scope"] == "openid"
    member.refresh_from_db()
    assert {k: v for k, v in claims.items() if k not in VOLATILE} == {
        "iss": f"{live_server.url}/o",
        "aud": rp.client_id,
        "nonce": request.nonce,
        "sub": member.uid,
        "mno_session": member.sso_session,
    }


def test_a_person_who_is_not_signed_in_is_sent_to_the_login_page(
    invoicer_oidc, live_server
):
    request = invoicer_oidc.relying_party.authorization_request()

    response = browser_for(live_server).get(request.url, allow_redirects=False)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login/?next=/o/authorize/")
    assert Grant.objects.count() == 0


def test_authorization_without_a_code_challenge_is_refused(
    invoicer_oidc, member, live_server
):
    rp = invoicer_oidc.relying_party
    oauth = rp.oauth()
    url, state = oauth.create_authorization_url(
        rp.discovery()["authorization_endpoint"]
    )

    location = browser_for(live_server, member).authorize(url)

    assert location.startswith(f"{REDIRECT_URI}?error=invalid_request")
    assert "Code+challenge+required" in location
    assert Grant.objects.count() == 0


def test_the_plain_code_challenge_method_is_refused(invoicer_oidc, member, live_server):
    rp = invoicer_oidc.relying_party
    oauth = rp.oauth()
    url, state = oauth.create_authorization_url(
        rp.discovery()["authorization_endpoint"],
        code_challenge="a" * 50,
        code_challenge_method="plain",
    )

    location = browser_for(live_server, member).authorize(url)

    assert location.startswith(f"{REDIRECT_URI}?error=invalid_request")
    assert Grant.objects.count() == 0


def test_a_code_exchange_without_the_pkce_verifier_is_refused(
    invoicer_oidc, member, live_server
):
    rp = invoicer_oidc.relying_party
    request = rp.authorization_request()
    location = browser_for(live_server, member).authorize(request.url)

    with pytest.raises(OAuthError) as refusal:
        request.oauth.fetch_token(
            rp.discovery()["token_endpoint"], authorization_response=location
        )

    assert refusal.value.error == "invalid_request"
    assert "Code verifier required" in refusal.value.description
    assert AccessToken.objects.count() == 0


def test_a_code_exchange_with_the_wrong_pkce_verifier_is_refused(
    invoicer_oidc, member, live_server
):
    rp = invoicer_oidc.relying_party
    request = rp.authorization_request()
    location = browser_for(live_server, member).authorize(request.url)

    with pytest.raises(OAuthError) as refusal:
        request.oauth.fetch_token(
            rp.discovery()["token_endpoint"],
            authorization_response=location,
            code_verifier=request.verifier[:-1] + "x",
        )

    assert refusal.value.error == "invalid_grant"
    assert AccessToken.objects.count() == 0


def test_a_redirect_uri_differing_by_one_character_is_refused_at_authorization(
    invoicer_oidc, member, live_server
):
    close = REDIRECT_URI[:-1] + "c"  # .../callbacc
    request = invoicer_oidc.relying_party.authorization_request(redirect_uri=close)

    response = browser_for(live_server, member).get(request.url, allow_redirects=False)

    assert response.status_code == 400
    assert "Location" not in response.headers
    assert 'data-code="invalid_request"' in response.text
    assert Grant.objects.count() == 0


def test_a_redirect_uri_differing_by_one_character_is_refused_at_the_token_endpoint(
    invoicer_oidc, member, live_server
):
    rp = invoicer_oidc.relying_party
    request = rp.authorization_request()
    location = browser_for(live_server, member).authorize(request.url)

    with pytest.raises(OAuthError) as refusal:
        request.oauth.fetch_token(
            rp.discovery()["token_endpoint"],
            authorization_response=location,
            code_verifier=request.verifier,
            redirect_uri=REDIRECT_URI + "/",
        )

    assert refusal.value.error == "invalid_request"
    assert "Mismatching redirect URI" in refusal.value.description
    assert AccessToken.objects.count() == 0


def test_a_code_is_used_once(invoicer_oidc, member, live_server):
    rp = invoicer_oidc.relying_party
    request = rp.authorization_request()
    location = browser_for(live_server, member).authorize(request.url)
    token_endpoint = rp.discovery()["token_endpoint"]
    request.oauth.fetch_token(
        token_endpoint, authorization_response=location, code_verifier=request.verifier
    )

    with pytest.raises(OAuthError) as refusal:
        rp.oauth().fetch_token(
            token_endpoint,
            authorization_response=location,
            code_verifier=request.verifier,
            state=request.state,
        )

    assert refusal.value.error == "invalid_grant"
    assert AccessToken.objects.count() == 1
