"""The company is chosen while authorising: by group_id, alone, or on the chooser."""

import re

import pytest
from oauth2_provider.models import Grant

from hub.models import Membership
from hub.oidc.models import AccessTokenAppInstance
from hub.oidc.tests.conftest import REDIRECT_URI, browser_for
from hub.tests.factories import (
    AppFactory,
    AppInstanceFactory,
    MembershipFactory,
    OrganizationFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.usefixtures("transactional_db")


def test_a_person_with_several_companies_chooses_one(
    invoicer_oidc, member, second_company, live_server
):
    rp = invoicer_oidc.relying_party
    browser = browser_for(live_server, member)
    request = rp.authorization_request()

    chooser = browser.get(request.url, allow_redirects=False)
    links = dict(re.findall(r'href="([^"]+)" data-group-id="([^"]+)"', chooser.text))
    by_group = {group: link.replace("&amp;", "&") for link, group in links.items()}
    location = browser.authorize(live_server.url + by_group[second_company.uid])
    token = request.oauth.fetch_token(
        rp.discovery()["token_endpoint"],
        authorization_response=location,
        code_verifier=request.verifier,
    )
    claims = rp.id_token_claims(token["id_token"], nonce=request.nonce)

    assert chooser.status_code == 200
    assert sorted(by_group) == sorted([invoicer_oidc.instance.uid, second_company.uid])
    assert AccessTokenAppInstance.objects.get().app_instance == second_company
    assert {key: claims[key] for key in claims if key.startswith("group_")} == {
        "group_uid": second_company.uid,
        "group_org_uid": second_company.organization.uid,
        "group_role": "Admin",
        "group_name": "Bolt Ltd",
        "group_currency": "AUD",
        "group_timezone": "Australia/Sydney",
        "group_country": "AU",
    }


def test_group_id_picks_the_company_without_the_chooser(
    invoicer_oidc, member, second_company, live_server
):
    rp = invoicer_oidc.relying_party

    token, request = rp.sign_in(
        browser_for(live_server, member), group_id=invoicer_oidc.instance.uid
    )
    claims = rp.id_token_claims(token["id_token"], nonce=request.nonce)

    assert claims["group_uid"] == invoicer_oidc.instance.uid
    assert claims["group_role"] == "Member"


def refused(browser, url):
    response = browser.get(url, allow_redirects=False)
    code = re.search(r'data-code="([^"]+)"', response.text)
    return response.status_code, code.group(1) if code else None


@pytest.mark.parametrize(
    "_case",
    ["another_company", "another_app", "terminated", "outside_the_team"],
)
def test_group_id_of_an_instance_the_person_may_not_launch_is_refused(
    _case, invoicer_oidc, member, organization, live_server
):
    app = invoicer_oidc.listing.app
    if _case == "another_company":
        instance = AppInstanceFactory(
            app=app, organization=OrganizationFactory(tenant=organization.tenant)
        )
    elif _case == "another_app":
        instance = AppInstanceFactory(app=AppFactory(), organization=organization)
    elif _case == "terminated":
        instance = AppInstanceFactory(
            app=app, organization=organization, status="terminated"
        )
    else:
        instance = AppInstanceFactory(app=app, organization=organization)
        TeamFactory(organization=organization).members.add(member)
    request = invoicer_oidc.relying_party.authorization_request(group_id=instance.uid)

    result = refused(browser_for(live_server, member), request.url)

    assert result == (403, "app_instance_not_allowed")
    assert Grant.objects.count() == 0


def test_a_team_member_is_offered_only_the_instances_of_their_teams(
    invoicer_oidc, member, organization, live_server
):
    rp = invoicer_oidc.relying_party
    AppInstanceFactory(app=invoicer_oidc.listing.app, organization=organization)
    team = TeamFactory(organization=organization)
    team.members.add(member)
    team.app_instances.add(invoicer_oidc.instance)

    token, request = rp.sign_in(browser_for(live_server, member))
    claims = rp.id_token_claims(token["id_token"], nonce=request.nonce)

    assert claims["group_uid"] == invoicer_oidc.instance.uid
    assert AccessTokenAppInstance.objects.get().app_instance == invoicer_oidc.instance


def test_a_person_with_no_instance_of_the_app_sees_the_access_unauthorised_page(
    invoicer_oidc, organization, live_server
):
    outsider = UserFactory(customer_base=organization.customer_base)
    request = invoicer_oidc.relying_party.authorization_request()

    result = refused(browser_for(live_server, outsider), request.url)

    assert result == (403, "no_app_instance")
    assert Grant.objects.count() == 0


def test_an_instance_on_another_marketplace_does_not_count(
    invoicer_oidc, organization, live_server
):
    elsewhere = OrganizationFactory(customer_base=organization.customer_base)
    person = MembershipFactory(
        organization=elsewhere, role=Membership.Role.SUPER_ADMIN
    ).user
    AppInstanceFactory(app=invoicer_oidc.listing.app, organization=elsewhere)
    request = invoicer_oidc.relying_party.authorization_request()

    result = refused(browser_for(live_server, person), request.url)

    assert result == (403, "no_app_instance")
    assert Grant.objects.count() == 0


def test_prompt_none_with_several_companies_asks_the_app_to_name_one(
    invoicer_oidc, member, second_company, live_server
):
    request = invoicer_oidc.relying_party.authorization_request(prompt="none")

    location = browser_for(live_server, member).authorize(request.url)

    assert location == (
        f"{REDIRECT_URI}?error=account_selection_required&state={request.state}"
    )
    assert Grant.objects.count() == 0


def test_prompt_none_signs_in_silently_to_the_only_company(
    invoicer_oidc, member, live_server
):
    rp = invoicer_oidc.relying_party
    request = rp.authorization_request(prompt="none")

    location = browser_for(live_server, member).authorize(request.url)
    token = request.oauth.fetch_token(
        rp.discovery()["token_endpoint"],
        authorization_response=location,
        code_verifier=request.verifier,
    )

    claims = rp.id_token_claims(token["id_token"], nonce=request.nonce)
    assert claims["group_uid"] == invoicer_oidc.instance.uid


def test_prompt_none_without_a_hub_session_answers_login_required(
    invoicer_oidc, live_server
):
    request = invoicer_oidc.relying_party.authorization_request(prompt="none")

    location = browser_for(live_server).authorize(request.url)

    assert location.startswith(f"{REDIRECT_URI}?error=login_required")
    assert f"state={request.state}" in location
    assert Grant.objects.count() == 0
