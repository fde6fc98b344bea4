"""Clients of listings: disabled listings, the consent page, and the admin."""

import re

import pytest
from authlib.integrations.base_client import OAuthError
from django.contrib.messages import get_messages
from django.urls import reverse
from oauth2_provider.models import Grant

from hub.oidc.models import AccessTokenAppInstance, OAuthClient
from hub.oidc.tests.conftest import browser_for
from hub.tests.factories import AppFactory, UserFactory, app_listing_create

pytestmark = pytest.mark.usefixtures("transactional_db")


def test_a_disabled_listing_signs_no_one_in(invoicer_oidc, member, live_server):
    rp = invoicer_oidc.relying_party
    request = rp.authorization_request()
    invoicer_oidc.listing.enabled = False
    invoicer_oidc.listing.save(update_fields=["enabled"])

    response = browser_for(live_server, member).get(request.url, allow_redirects=False)

    assert response.status_code == 400
    assert 'data-code="invalid_request"' in response.text
    assert Grant.objects.count() == 0


def test_a_disabled_listing_gets_no_token_for_a_code_it_already_has(
    invoicer_oidc, member, live_server
):
    rp = invoicer_oidc.relying_party
    request = rp.authorization_request()
    location = browser_for(live_server, member).authorize(request.url)
    invoicer_oidc.listing.enabled = False
    invoicer_oidc.listing.save(update_fields=["enabled"])

    with pytest.raises(OAuthError) as refusal:
        request.oauth.fetch_token(
            rp.discovery()["token_endpoint"],
            authorization_response=location,
            code_verifier=request.verifier,
        )

    assert refusal.value.error == "invalid_client"
    assert AccessTokenAppInstance.objects.count() == 0


def test_the_consent_page_carries_the_chosen_company(
    invoicer_oidc, member, second_company, live_server
):
    rp = invoicer_oidc.relying_party
    application = invoicer_oidc.oauth_client.application
    application.skip_authorization = False
    application.save(update_fields=["skip_authorization"])
    browser = browser_for(live_server, member)
    request = rp.authorization_request(group_id=second_company.uid)

    page = browser.get(request.url, allow_redirects=False)
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page.text))
    consent = browser.post(
        f"{live_server.url}/o/authorize/",
        data={**fields, "allow": "Authorize"},
        headers={"Referer": request.url},
        allow_redirects=False,
    )
    token = request.oauth.fetch_token(
        rp.discovery()["token_endpoint"],
        authorization_response=consent.headers["Location"],
        code_verifier=request.verifier,
    )

    assert page.status_code == 200
    assert "for Bolt Ltd?" in page.text
    assert fields["group_id"] == second_company.uid
    assert consent.status_code == 302
    claims = rp.id_token_claims(token["id_token"], nonce=request.nonce)
    assert claims["group_uid"] == second_company.uid


def test_a_consent_for_a_company_not_allowed_is_refused(
    invoicer_oidc, member, live_server
):
    rp = invoicer_oidc.relying_party
    application = invoicer_oidc.oauth_client.application
    application.skip_authorization = False
    application.save(update_fields=["skip_authorization"])
    browser = browser_for(live_server, member)
    request = rp.authorization_request()
    page = browser.get(request.url, allow_redirects=False)
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page.text))

    consent = browser.post(
        f"{live_server.url}/o/authorize/",
        data={**fields, "group_id": "cld-notyours", "allow": "Authorize"},
        headers={"Referer": request.url},
        allow_redirects=False,
    )

    assert consent.status_code == 403
    assert 'data-code="app_instance_not_allowed"' in consent.text
    assert Grant.objects.count() == 0


def test_staff_add_a_sign_in_client_in_the_admin_and_see_its_secret_once(
    organization, client
):
    listing = app_listing_create(AppFactory(name="Ledger"), organization.tenant)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    response = client.post(
        reverse("admin:oidc_oauthclient_add"),
        {
            "kind": "app",
            "listing": listing.pk,
            "name": "",
            "redirect_uris": "https://ledger.example.test/cb",
            "post_logout_redirect_uris": "",
        },
    )

    assert response.status_code == 302
    oauth_client = OAuthClient.objects.get()
    assert oauth_client.listing == listing
    assert oauth_client.application.client_id == listing.api_id
    assert oauth_client.application.redirect_uris == "https://ledger.example.test/cb"
    notes = [str(message) for message in get_messages(response.wsgi_request)]
    assert any(f"Client {listing.api_id}: secret " in note for note in notes)


def test_the_admin_refuses_a_sign_in_client_without_a_redirect_uri(
    organization, client
):
    listing = app_listing_create(AppFactory(name="Ledger"), organization.tenant)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    response = client.post(
        reverse("admin:oidc_oauthclient_add"),
        {"kind": "app", "listing": listing.pk, "redirect_uris": ""},
    )

    assert response.status_code == 200
    assert OAuthClient.objects.count() == 0
