"""What the identity provider does with each AuthnRequest, before anything is signed."""

import base64
from urllib.parse import quote

import lxml.html
import pytest
from lxml import etree

from hub import services as hub_services
from hub.models import AppInstance, User
from hub.sso.models import SigningKey
from hub.tests.factories import (
    MembershipFactory,
    TeamFactory,
    UserFactory,
    app_listing_create,
)

from .service_provider import (
    SSO_PATH,
    posted_form,
    redirect_encode,
    response_xml,
    sdk_request_url,
    sdk_request_xml,
)

ACS_URL = "https://invoicer.example.test/maestrano/auth/saml/consume"


def _refusal(page):
    """Return what the error page shows a person: its code and its message."""
    document = lxml.html.fromstring(page.content)
    return {
        "status": page.status_code,
        "type": page["Content-Type"],
        "code": document.findtext(".//code"),
        "message": document.findtext(".//p[@role='alert']"),
    }


def _bad_request(code, message):
    return {
        "status": 400,
        "type": "text/html; charset=utf-8",
        "code": code,
        "message": message,
    }


def _assertion_attribute(page, name):
    root = etree.fromstring(response_xml(page))
    return root.findtext(
        f"saml:Assertion/saml:AttributeStatement/saml:Attribute[@Name='{name}']"
        "/saml:AttributeValue",
        namespaces={"saml": "urn:oasis:names:tc:SAML:2.0:assertion"},
    )


@pytest.fixture
def member(organization):
    return MembershipFactory(organization=organization).user


def test_a_request_shaped_by_the_ruby_sdk_is_answered(client, owner, invoicer):
    # given the SDK's request, base64 wrapped at 60 columns, and params it copies
    client.force_login(owner)
    document = sdk_request_xml(issuer=invoicer.api_id, acs_url=ACS_URL)

    page = client.get(sdk_request_url(document, group_id="", tenant="default"))

    # then the answer goes to its ACS, with no RelayState since it sent none
    form = posted_form(page)
    assert page.status_code == 200
    assert sorted(form) == ["SAMLResponse", "action", "method"]
    assert form["action"] == ACS_URL
    assert b'InResponseTo="_4a1e6f0c"' in response_xml(page)
    assert page["Cache-Control"] == (
        "max-age=0, no-cache, no-store, must-revalidate, private"
    )


def test_a_request_naming_no_acs_is_answered_at_the_apps_consume_path(
    client, owner, invoicer
):
    invoicer.listing.sso_consume_path = "/maestrano/auth/saml/consume/acme"
    invoicer.listing.save()
    client.force_login(owner)

    page = client.get(sdk_request_url(sdk_request_xml(issuer=invoicer.api_id)))

    assert posted_form(page)["action"] == (
        "https://invoicer.example.test/maestrano/auth/saml/consume/acme"
    )


def test_a_request_without_samlrequest_is_refused(client, owner):
    client.force_login(owner)

    page = client.get(SSO_PATH, {"group_id": "cld-x"})

    assert _refusal(page) == _bad_request(
        "saml_request_missing",
        "The link that brought you here carries no SAMLRequest. "
        "Open the app again from your dashboard.",
    )


@pytest.mark.parametrize(
    "encoded",
    [
        pytest.param("not base64 at all!", id="not-base64"),
        pytest.param(
            base64.b64encode(b"<samlp:AuthnRequest/>").decode(), id="not-deflated"
        ),
        pytest.param(
            redirect_encode(sdk_request_xml(issuer="app-x")).replace("\n", "")[:-12],
            id="truncated",
        ),
    ],
)
def test_an_undecodable_samlrequest_is_refused(client, owner, invoicer, encoded):
    client.force_login(owner)

    page = client.get(SSO_PATH, {"SAMLRequest": encoded})

    assert _refusal(page) == _bad_request(
        "saml_request_undecodable",
        "The SAMLRequest is not deflated, base64-encoded data.",
    )
    assert SigningKey.objects.count() == 0


@pytest.mark.parametrize(
    "document",
    [
        pytest.param("just some text", id="not-xml"),
        pytest.param(sdk_request_xml(issuer="app-x")[:-40], id="tampered-cut-short"),
        pytest.param(
            sdk_request_xml(issuer="app-x").replace(
                "samlp:AuthnRequest", "samlp:LogoutRequest"
            ),
            id="another-message",
        ),
        pytest.param(
            sdk_request_xml(issuer="app-x").replace(' ID="_4a1e6f0c"', ""),
            id="no-id",
        ),
        pytest.param(
            '<!DOCTYPE r [<!ENTITY app SYSTEM "file:///etc/hostname">]>'
            + sdk_request_xml(issuer="&app;"),
            id="external-entity",
        ),
    ],
)
def test_a_samlrequest_that_is_no_authnrequest_is_refused(client, owner, document):
    client.force_login(owner)

    page = client.get(SSO_PATH, {"SAMLRequest": redirect_encode(document)})

    assert _refusal(page) == _bad_request(
        "saml_request_malformed",
        "The SAMLRequest is not a SAML 2.0 AuthnRequest with an ID and an Issuer.",
    )


def test_an_unknown_issuer_is_refused_before_any_login(client, invoicer):
    # given nobody signed in: the request is judged before the login page
    page = client.get(sdk_request_url(sdk_request_xml(issuer="app-unknown")))

    assert _refusal(page) == _bad_request(
        "saml_unknown_issuer",
        "No app is enabled on this platform with the id app-unknown.",
    )


def test_a_disabled_listing_is_an_unknown_issuer(client, owner, invoicer):
    invoicer.listing.enabled = False
    invoicer.listing.save()
    client.force_login(owner)

    page = client.get(sdk_request_url(sdk_request_xml(issuer=invoicer.api_id)))

    assert _refusal(page)["code"] == "saml_unknown_issuer"


@pytest.mark.parametrize(
    "acs_url",
    [
        "https://evil.example.test/maestrano/auth/saml/consume",
        "http://invoicer.example.test/maestrano/auth/saml/consume",
        "https://invoicer.example.test:8443/maestrano/auth/saml/consume",
        "https://invoicer.example.test.evil.test/consume",
        "https://invoicer.example.test\\@evil.test/consume",
        "javascript:alert(1)",
        "https://[invoicer.example.test/maestrano/auth/saml/consume",
        "https://invoicer.example.test:99999/maestrano/auth/saml/consume",
    ],
)
def test_an_acs_off_the_apps_host_is_refused(client, owner, invoicer, acs_url):
    client.force_login(owner)
    document = sdk_request_xml(issuer=invoicer.api_id, acs_url=acs_url)

    page = client.get(sdk_request_url(document))

    assert _refusal(page) == _bad_request(
        "saml_acs_not_allowed",
        f"Invoicer asked for the answer at {acs_url}, which is not one of its "
        "addresses; nothing was sent.",
    )
    assert b"SAMLResponse" not in page.content
    assert SigningKey.objects.count() == 0


def test_a_stranger_is_sent_to_the_login_page_and_back(client, owner, invoicer):
    # given nobody signed in
    url = sdk_request_url(sdk_request_xml(issuer=invoicer.api_id, acs_url=ACS_URL))

    # when the browser arrives, logs in, and follows the login page back
    arrival = client.get(url)
    login = client.post(
        "/login/",
        {"username": owner.email, "password": "a-good-password", "next": url},
    )
    page = client.get(login["Location"])

    # then it went round the login page and got its answer
    assert arrival.status_code == 302
    assert arrival["Location"] == "/login/?next=" + quote(url, safe="/")
    assert login["Location"] == url
    assert posted_form(page)["action"] == ACS_URL


def test_a_member_whose_teams_lack_the_app_is_unauthorised_and_gets_nothing(
    client, organization, member, invoicer
):
    # given the member is in a team of the company that does not have the app
    team = TeamFactory(organization=organization)
    team.members.add(member)
    client.force_login(member)
    session_before = User.objects.get(pk=member.pk).sso_session

    page = client.get(sdk_request_url(sdk_request_xml(issuer=invoicer.api_id)))

    # then the access-unauthorised page answers, and nothing was signed
    assert page.status_code == 403
    assert page["Content-Type"] == "text/html; charset=utf-8"
    assert lxml.html.fromstring(page.content).findtext(".//h1") == (
        "Access not authorised"
    )
    assert b"None of your companies lets you use Invoicer." in page.content
    assert b"SAMLResponse" not in page.content
    assert SigningKey.objects.count() == 0
    assert User.objects.get(pk=member.pk).sso_session == session_before


def test_a_member_of_a_team_with_the_app_is_answered(
    client, organization, member, invoicer
):
    team = TeamFactory(organization=organization)
    team.members.add(member)
    team.app_instances.add(invoicer.instance)
    client.force_login(member)

    page = client.get(sdk_request_url(sdk_request_xml(issuer=invoicer.api_id)))

    assert posted_form(page)["action"] == ACS_URL
    assert _assertion_attribute(page, "group_uid") == invoicer.group_id


def test_someone_outside_the_company_is_unauthorised(client, organization, invoicer):
    outsider = UserFactory(customer_base=organization.customer_base)
    client.force_login(outsider)

    page = client.get(sdk_request_url(sdk_request_xml(issuer=invoicer.api_id)))

    assert page.status_code == 403
    assert b"SAMLResponse" not in page.content


def test_a_terminated_instance_gives_no_access(client, owner, invoicer):
    hub_services.app_instance_terminate(actor=owner, app_instance=invoicer.instance)
    client.force_login(owner)

    page = client.get(sdk_request_url(sdk_request_xml(issuer=invoicer.api_id)))

    assert page.status_code == 403
    assert AppInstance.objects.get(pk=invoicer.instance.pk).status == "terminated"


@pytest.fixture
def second_company(owner, organization, invoicer):
    """The owner's second company on the tenant, with its own instance of the app."""
    company = hub_services.organization_create(
        tenant=organization.tenant, name="Bolt Ltd", owner=owner
    )
    return hub_services.app_instance_create(
        app=invoicer.listing.app, organization=company, name="Bolt books"
    )


def test_several_companies_without_a_group_id_get_the_chooser(
    client, owner, invoicer, second_company
):
    client.force_login(owner)
    url = sdk_request_url(sdk_request_xml(issuer=invoicer.api_id), lang="en")

    page = client.get(url)

    # then each company is offered, its link replaying the request with its group
    assert page.status_code == 200
    assert b"SAMLResponse" not in page.content
    links = lxml.html.fromstring(page.content).findall(".//ul/li/a")
    assert [link.text for link in links] == ["Acme Pty", "Bolt Ltd"]
    for link, group_id in zip(
        links, [invoicer.group_id, second_company.uid], strict=True
    ):
        assert link.get("href") == f"{url}&group_id={group_id}"


def test_following_a_chooser_link_signs_in_to_that_company(
    client, owner, invoicer, second_company
):
    client.force_login(owner)
    chooser = client.get(sdk_request_url(sdk_request_xml(issuer=invoicer.api_id)))
    second_link = lxml.html.fromstring(chooser.content).findall(".//ul/li/a")[1]

    page = client.get(second_link.get("href"))

    assert _assertion_attribute(page, "group_uid") == second_company.uid
    assert _assertion_attribute(page, "group_name") == "Bolt Ltd"


def test_a_group_id_the_person_may_not_use_brings_the_chooser(
    client, owner, invoicer, second_company
):
    # given a group of the same app in a company the owner is not in
    foreign = hub_services.organization_create(
        tenant=invoicer.listing.tenant, name="Cobalt Inc"
    )
    other = hub_services.app_instance_create(
        app=invoicer.listing.app, organization=foreign
    )
    client.force_login(owner)

    page = client.get(
        sdk_request_url(sdk_request_xml(issuer=invoicer.api_id), group_id=other.uid)
    )

    links = lxml.html.fromstring(page.content).findall(".//ul/li/a")
    assert [link.text for link in links] == ["Acme Pty", "Bolt Ltd"]
    assert b"SAMLResponse" not in page.content


def test_a_single_company_ignores_the_group_id(client, owner, invoicer):
    client.force_login(owner)

    page = client.get(
        sdk_request_url(sdk_request_xml(issuer=invoicer.api_id), group_id="cld-other")
    )

    assert _assertion_attribute(page, "group_uid") == invoicer.group_id


def test_instances_of_the_app_on_another_tenant_do_not_count(client, owner, invoicer):
    # given the owner's company elsewhere uses the same app through another listing
    elsewhere = hub_services.organization_create(
        tenant=hub_services.tenant_create(
            name="Other", customer_base=owner.customer_base
        )[0],
        name="Elsewhere Ltd",
        owner=owner,
    )
    app_listing_create(invoicer.listing.app, elsewhere.tenant)
    hub_services.app_instance_create(app=invoicer.listing.app, organization=elsewhere)
    client.force_login(owner)

    page = client.get(sdk_request_url(sdk_request_xml(issuer=invoicer.api_id)))

    assert _assertion_attribute(page, "group_uid") == invoicer.group_id
