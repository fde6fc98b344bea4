"""The SAML identity provider, judged by a real service provider (python3-saml)."""

import base64
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree
from onelogin.saml2.constants import OneLogin_Saml2_Constants
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser
from onelogin.saml2.utils import OneLogin_Saml2_Utils

from hub import services as hub_services
from hub.models import Membership
from hub.sso import services
from hub.tests.factories import MembershipFactory, TenantFactory

from .service_provider import (
    IDP_SSO_URL,
    PERSISTENT,
    ServiceProvider,
    idp_entity_id,
    posted_form,
    response_xml,
)

NS = {
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
}


def _time(value):
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _issue_instant(page):
    root = etree.fromstring(response_xml(page))
    return _time(root.find("saml:Assertion", NS).get("IssueInstant"))


def _valid(auth):
    # The reason is in the assertion message, so a failure says what went wrong.
    assert (auth.get_errors(), auth.get_last_error_reason()) == ([], None)
    return auth.is_authenticated()


@pytest.fixture
def profile(owner):
    owner.name, owner.surname = "Ada", "Lovelace"
    owner.company, owner.locale = "Analytical Engines", "en-AU"
    owner.save()
    return owner


def test_the_app_signs_in_the_owner_with_every_attribute(
    client, profile, organization, invoicer, service_provider
):
    # given the owner signed in to the portal, and the app starting a sign-on
    client.force_login(profile)
    profile.refresh_from_db()
    url, request_id = service_provider.login()

    # when the browser follows the app to the identity provider, then back
    page = client.get(url)
    auth = service_provider.consume(page, request_id)

    # then the app's SAML library accepts the answer and reads who and where
    assert page.status_code == 200
    assert posted_form(page)["action"] == service_provider.acs_url
    assert posted_form(page)["method"] == "POST"
    assert _valid(auth) is True
    assert auth.get_nameid() == profile.uid
    assert auth.get_nameid_format() == PERSISTENT
    virtual_uid = f"{profile.uid}.{invoicer.group_id}"
    recheck = _issue_instant(page) + timedelta(minutes=3)
    assert auth.get_attributes() == {
        "mno_uid": [profile.uid],
        "uid": [profile.uid],
        "virtual_uid": [virtual_uid],
        "email": [profile.email],
        "virtual_email": [f"{virtual_uid}@apps.maestrano.test"],
        "name": ["Ada"],
        "surname": ["Lovelace"],
        "country": ["AU"],
        "company_name": ["Analytical Engines"],
        "mno_session": [profile.sso_session],
        "mno_session_recheck": [_iso(recheck)],
        "group_uid": [invoicer.group_id],
        "group_org_uid": [organization.uid],
        "group_name": ["Acme Pty"],
        "group_email": [profile.email],
        "group_role": ["Super Admin"],
        "group_end_free_trial": ["2031-05-17T09:30:00Z"],
        "group_has_credit_card": ["false"],
        "group_currency": ["USD"],
        "group_timezone": ["UTC"],
        "group_country": ["US"],
        # Not modelled yet: sent, and empty.
        "group_city": [],
        "group_reseller_id": [],
        "app_owner": ["true"],
        "organizations": [
            json.dumps(
                {organization.uid: {"name": "Acme Pty", "role": "Super Admin"}},
                separators=(",", ":"),
            )
        ],
    }


def test_a_member_is_told_their_role_and_is_no_app_owner(
    client, organization, invoicer, service_provider
):
    member = MembershipFactory(organization=organization).user
    client.force_login(member)
    url, request_id = service_provider.login()

    auth = service_provider.consume(client.get(url), request_id)

    assert _valid(auth) is True
    attributes = auth.get_attributes()
    assert (attributes["group_role"], attributes["app_owner"]) == (
        ["Member"],
        ["false"],
    )
    assert attributes["country"] == ["US"]


def test_the_response_has_the_shape_the_sdks_check(
    client, owner, invoicer, signing_key, service_provider
):
    client.force_login(owner)
    url, request_id = service_provider.login()

    page = client.get(url)

    root = etree.fromstring(response_xml(page))
    assertion = root.find("saml:Assertion", NS)
    issued = _time(assertion.get("IssueInstant"))
    acs_url = "https://invoicer.example.test/maestrano/auth/saml/consume"
    entity_id = service_provider.idp_entity_id
    assert root.tag == f"{{{NS['samlp']}}}Response"
    assert root.get("Version") == "2.0"
    assert root.get("ID").startswith("_")
    assert _time(root.get("IssueInstant")) == issued
    assert (root.get("Destination"), root.get("InResponseTo")) == (acs_url, request_id)
    assert root.findtext("saml:Issuer", namespaces=NS) == entity_id
    assert root.find("samlp:Status/samlp:StatusCode", NS).get("Value") == (
        "urn:oasis:names:tc:SAML:2.0:status:Success"
    )
    # Children in the order of the schema, the signature right after the Issuer.
    assert [etree.QName(child).localname for child in assertion] == [
        "Issuer",
        "Signature",
        "Subject",
        "Conditions",
        "AuthnStatement",
        "AttributeStatement",
    ]
    assert assertion.findtext("saml:Issuer", namespaces=NS) == entity_id

    confirmation = assertion.find(
        "saml:Subject/saml:SubjectConfirmation[@Method="
        "'urn:oasis:names:tc:SAML:2.0:cm:bearer']/saml:SubjectConfirmationData",
        NS,
    )
    assert dict(confirmation.attrib) == {
        "NotOnOrAfter": _iso(issued + timedelta(minutes=3)),
        "Recipient": acs_url,
        "InResponseTo": request_id,
    }
    conditions = assertion.find("saml:Conditions", NS)
    assert dict(conditions.attrib) == {
        "NotBefore": _iso(issued - timedelta(seconds=5)),
        "NotOnOrAfter": _iso(issued + timedelta(hours=1)),
    }
    audiences = conditions.findall("saml:AudienceRestriction/saml:Audience", NS)
    assert [audience.text for audience in audiences] == [
        "https://invoicer.example.test",
        invoicer.api_id,
    ]
    authn = assertion.find("saml:AuthnStatement", NS)
    assert authn.get("SessionIndex") == assertion.get("ID")

    signatures = root.findall(".//ds:Signature", NS)
    assert len(signatures) == 1
    signature = signatures[0]
    algorithms = {
        etree.QName(element).localname: element.get("Algorithm")
        for element in signature.iter()
        if element.get("Algorithm") and etree.QName(element).localname != "Transform"
    }
    assert algorithms == {
        "CanonicalizationMethod": "http://www.w3.org/2001/10/xml-exc-c14n#",
        "SignatureMethod": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        "DigestMethod": "http://www.w3.org/2001/04/xmlenc#sha256",
    }
    transforms = signature.findall(".//ds:Transform", NS)
    assert [transform.get("Algorithm") for transform in transforms] == [
        "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
        "http://www.w3.org/2001/10/xml-exc-c14n#",
    ]
    reference = signature.find("ds:SignedInfo/ds:Reference", NS)
    assert reference.get("URI") == "#" + assertion.get("ID")
    certificate = signature.findtext(
        "ds:KeyInfo/ds:X509Data/ds:X509Certificate", namespaces=NS
    )
    # Wrapped at 64 columns as in PEM; the SDKs' base64 decoders skip the breaks.
    pem_body = "".join(signing_key.certificate_pem.strip().splitlines()[1:-1])
    assert "".join(certificate.split()) == pem_body


def test_an_sp_allowing_no_clock_drift_accepts_the_answer_at_once(
    client, owner, invoicer, service_provider, monkeypatch
):
    # given an SP as strict as the Ruby SDK, which allows no clock drift
    monkeypatch.setattr(OneLogin_Saml2_Constants, "ALLOWED_CLOCK_DRIFT", 0)
    client.force_login(owner)
    url, request_id = service_provider.login()

    # when the answer reaches it on a clock four seconds behind the hub's
    page = client.get(url)
    behind = (_issue_instant(page) - timedelta(seconds=4)).timestamp()
    monkeypatch.setattr(OneLogin_Saml2_Utils, "now", staticmethod(lambda: behind))

    # then the back-dated NotBefore lets it through
    assert _valid(service_provider.consume(page, request_id)) is True


@pytest.mark.parametrize(
    ("delay", "accepted"),
    [(timedelta(seconds=179), True), (timedelta(minutes=3), False)],
)
def test_the_answer_must_be_consumed_within_three_minutes(
    client, owner, invoicer, service_provider, monkeypatch, delay, accepted
):
    client.force_login(owner)
    url, request_id = service_provider.login()
    page = client.get(url)

    arrival = (_issue_instant(page) + delay).timestamp()
    monkeypatch.setattr(OneLogin_Saml2_Utils, "now", staticmethod(lambda: arrival))
    auth = service_provider.consume(page, request_id)

    assert auth.is_authenticated() is accepted
    if not accepted:
        assert auth.get_last_error_reason() == (
            "A valid SubjectConfirmation was not found on this Response"
        )


def test_an_answer_before_its_not_before_is_refused(
    client, owner, invoicer, service_provider, monkeypatch
):
    monkeypatch.setattr(OneLogin_Saml2_Constants, "ALLOWED_CLOCK_DRIFT", 0)
    client.force_login(owner)
    url, request_id = service_provider.login()
    page = client.get(url)

    # an SP whose clock is six seconds behind the identity provider's
    early = (_issue_instant(page) - timedelta(seconds=6)).timestamp()
    monkeypatch.setattr(OneLogin_Saml2_Utils, "now", staticmethod(lambda: early))
    auth = service_provider.consume(page, request_id)

    assert auth.is_authenticated() is False
    assert auth.get_last_error_reason() == (
        "Could not validate timestamp: not yet valid. Check system clock."
    )


def test_an_app_pinning_another_fingerprint_refuses_the_answer(
    client, owner, invoicer, service_provider
):
    # given the app configured with another tenant's fingerprint
    other = services.signing_key_ensure(tenant=TenantFactory())
    service_provider.fingerprint = other.fingerprint_sha1
    client.force_login(owner)
    url, request_id = service_provider.login()

    auth = service_provider.consume(client.get(url), request_id)

    assert auth.is_authenticated() is False
    assert auth.get_errors() == ["invalid_response"]
    assert auth.get_last_error_reason() == (
        "Signature validation failed. SAML Response rejected"
    )


def test_an_assertion_changed_in_transit_is_refused(
    client, organization, invoicer, service_provider
):
    # given a member who edits their role in the answer before it is posted
    member = MembershipFactory(organization=organization).user
    client.force_login(member)
    url, request_id = service_provider.login()
    page = client.get(url)
    forged = response_xml(page).replace(
        b"<saml:AttributeValue>Member</saml:AttributeValue>",
        b"<saml:AttributeValue>Super Admin</saml:AttributeValue>",
    )
    assert forged != response_xml(page)
    page.content = page.content.replace(
        posted_form(page)["SAMLResponse"].encode(), base64.b64encode(forged)
    )

    auth = service_provider.consume(page, request_id)

    assert auth.is_authenticated() is False
    assert auth.get_last_error_reason() == (
        "Signature validation failed. SAML Response rejected"
    )


def test_an_answer_posted_to_another_app_fails_its_audience_check(
    client, owner, organization, invoicer, service_provider
):
    # given a second app on the same host, whose SP receives the first one's answer
    client.force_login(owner)
    url, request_id = service_provider.login()
    page = client.get(url)
    other = ServiceProvider(
        entity_id="app-someoneelse",
        host=service_provider.host,
        idp_entity_id=service_provider.idp_entity_id,
        fingerprint=service_provider.fingerprint,
    )

    auth = other.consume(page, request_id)

    assert auth.is_authenticated() is False
    assert auth.get_last_error_reason() == (
        "app-someoneelse is not a valid audience for this Response"
    )


def test_an_answer_received_at_another_address_fails_its_recipient_check(
    client, owner, invoicer, service_provider
):
    client.force_login(owner)
    url, request_id = service_provider.login()
    page = client.get(url)

    auth = service_provider.consume(page, request_id, at_path="/elsewhere/consume")

    assert auth.is_authenticated() is False
    assert auth.get_last_error_reason() == (
        "The response was received at https://invoicer.example.test/elsewhere/consume"
        " instead of https://invoicer.example.test/maestrano/auth/saml/consume"
    )


def test_an_sp_configured_from_the_metadata_accepts_the_answer(
    client, owner, invoicer, signing_key, service_provider
):
    # given an SP that read the identity provider's published metadata
    tenant = invoicer.listing.tenant
    metadata = client.get(f"/hub/api/v1/auth/saml/metadata/{tenant.uid}")
    idp = OneLogin_Saml2_IdPMetadataParser.parse(metadata.content)["idp"]
    configured = ServiceProvider(
        entity_id=invoicer.api_id,
        host=service_provider.host,
        idp_entity_id=idp["entityId"],
        certificate=idp["x509cert"],
    )
    client.force_login(owner)

    url, request_id = configured.login()
    auth = configured.consume(client.get(url), request_id)

    assert metadata.status_code == 200
    assert metadata["Content-Type"] == "application/samlmetadata+xml"
    assert idp["entityId"] == service_provider.idp_entity_id
    assert idp["singleSignOnService"] == {
        "url": "http://testserver/hub/api/v1/auth/saml",
        "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
    }
    assert idp["x509cert"] == "".join(
        signing_key.certificate_pem.strip().splitlines()[1:-1]
    )
    assert _valid(auth) is True


def test_a_rotated_key_is_refused_until_the_app_pins_it(
    client, owner, invoicer, service_provider
):
    # given the tenant's key rotated after the app pinned the old fingerprint
    new_key = services.signing_key_rotate(tenant=invoicer.listing.tenant)
    client.force_login(owner)

    url, request_id = service_provider.login()
    refused = service_provider.consume(client.get(url), request_id)
    service_provider.fingerprint = new_key.fingerprint_sha1
    url, request_id = service_provider.login()
    accepted = service_provider.consume(client.get(url), request_id)

    assert refused.is_authenticated() is False
    assert _valid(accepted) is True


def test_the_chosen_group_is_asserted_when_the_person_has_several(
    client, owner, organization, invoicer, service_provider
):
    # given the owner also runs the app in a second company of the tenant
    second = hub_services.organization_create(
        tenant=organization.tenant, name="Bolt Ltd", owner=owner
    )
    bolt = hub_services.app_instance_create(
        app=invoicer.listing.app, organization=second
    )
    client.force_login(owner)

    # when the app names the second company's group
    url, request_id = service_provider.login(group_id=bolt.uid)
    auth = service_provider.consume(client.get(url), request_id)

    # then the answer is for that group, and lists both companies
    assert _valid(auth) is True
    attributes = auth.get_attributes()
    assert attributes["group_uid"] == [bolt.uid]
    assert attributes["group_name"] == ["Bolt Ltd"]
    assert json.loads(attributes["organizations"][0]) == {
        organization.uid: {"name": "Acme Pty", "role": "Super Admin"},
        second.uid: {"name": "Bolt Ltd", "role": "Super Admin"},
    }
    assert Membership.objects.filter(user=owner).count() == 2


@pytest.mark.parametrize("pinning", ["x509_fingerprint", "x509_certificate"])
def test_the_marketplace_configuration_lets_the_app_check_the_answer(
    client, owner, invoicer, pinning
):
    # given an app configured from the marketplace configuration its SDK fetches
    environment, secret = hub_services.app_environment_create(
        app=invoicer.listing.app, name="production"
    )
    credentials = base64.b64encode(f"{environment.key}:{secret}".encode()).decode()
    configuration = client.get(
        "/hub/api/config/v1/marketplaces",
        HTTP_AUTHORIZATION=f"Basic {credentials}",
    ).json()["marketplaces"][0]
    sso = configuration["sso"]
    app = ServiceProvider(
        entity_id=configuration["api"]["id"],
        host=sso["idm"],
        idp_entity_id=idp_entity_id(invoicer.listing.tenant),
        fingerprint=sso["x509_fingerprint"] if pinning == "x509_fingerprint" else "",
        certificate=sso["x509_certificate"] if pinning == "x509_certificate" else "",
    )
    client.force_login(owner)

    # when it signs the owner in
    url, request_id = app.login()
    auth = app.consume(client.get(url), request_id)

    # then the published fingerprint (or certificate) validates the signature
    assert sso["idp"] + "/api/v1/auth/saml" == IDP_SSO_URL
    assert re.fullmatch(r"([0-9A-F]{2}:){19}[0-9A-F]{2}", sso["x509_fingerprint"])
    assert sso["x509_certificate"].startswith("-----BEGIN CERTIFICATE-----\n")
    assert _valid(auth) is True
