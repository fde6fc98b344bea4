"""Per-tenant signing keys: made once, sealed at rest, published as metadata."""

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from lxml import etree

from hub.sso import services
from hub.sso.models import SigningKey
from hub.tests.factories import TenantFactory
from maestrano import sealing

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"


def test_a_tenant_gets_one_key_made_on_first_use(db):
    tenant = TenantFactory()

    first = services.signing_key_ensure(tenant=tenant)
    second = services.signing_key_ensure(tenant=tenant)

    assert first.pk == second.pk
    assert SigningKey.objects.filter(tenant=tenant).count() == 1


def test_the_fingerprint_is_the_sha1_of_the_certificate_as_the_sdks_print_it(db):
    signing_key = services.signing_key_ensure(tenant=TenantFactory(name="North"))

    certificate = x509.load_pem_x509_certificate(signing_key.certificate_pem.encode())
    digest = certificate.fingerprint(hashes.SHA1()).hex().upper()
    expected = ":".join(digest[i : i + 2] for i in range(0, 40, 2))
    assert signing_key.fingerprint_sha1 == expected
    assert certificate.signature_hash_algorithm.name == "sha256"
    assert certificate.subject == certificate.issuer
    assert certificate.public_key().key_size == 2048


def test_the_private_key_is_sealed_at_rest_and_matches_the_certificate(db):
    signing_key = services.signing_key_ensure(tenant=TenantFactory())

    private_pem = sealing.unseal(signing_key.private_key_sealed)
    private_key = serialization.load_pem_private_key(private_pem.encode(), None)
    certificate = x509.load_pem_x509_certificate(signing_key.certificate_pem.encode())

    assert "PRIVATE KEY" not in signing_key.private_key_sealed
    assert private_key.public_key().public_numbers() == (
        certificate.public_key().public_numbers()
    )


def test_tenants_have_keys_of_their_own(db):
    north = services.signing_key_ensure(tenant=TenantFactory())
    south = services.signing_key_ensure(tenant=TenantFactory())

    assert north.fingerprint_sha1 != south.fingerprint_sha1


def test_rotation_replaces_the_key_in_place(db):
    tenant = TenantFactory()
    old = services.signing_key_ensure(tenant=tenant)

    new = services.signing_key_rotate(tenant=tenant)

    assert new.pk == old.pk
    assert new.fingerprint_sha1 != old.fingerprint_sha1
    assert SigningKey.objects.get(tenant=tenant).certificate_pem == new.certificate_pem


def test_the_metadata_names_the_identity_provider_and_its_certificate(client, db):
    tenant = TenantFactory()

    response = client.get(f"/hub/api/v1/auth/saml/metadata/{tenant.uid}")

    signing_key = SigningKey.objects.get(tenant=tenant)
    root = etree.fromstring(response.content)
    descriptor = root.find(f"{{{MD}}}IDPSSODescriptor")
    sso = descriptor.find(f"{{{MD}}}SingleSignOnService")
    certificate = descriptor.findtext(
        f"{{{MD}}}KeyDescriptor[@use='signing']/{{{DS}}}KeyInfo"
        f"/{{{DS}}}X509Data/{{{DS}}}X509Certificate"
    )
    assert response.status_code == 200
    assert root.get("entityID") == (
        f"http://testserver/hub/api/v1/auth/saml/metadata/{tenant.uid}"
    )
    assert descriptor.get("protocolSupportEnumeration") == (
        "urn:oasis:names:tc:SAML:2.0:protocol"
    )
    assert (sso.get("Binding"), sso.get("Location")) == (
        "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
        "http://testserver/hub/api/v1/auth/saml",
    )
    assert descriptor.findtext(f"{{{MD}}}NameIDFormat") == (
        "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
    )
    assert certificate == "".join(signing_key.certificate_pem.splitlines()[1:-1])


def test_the_metadata_of_an_unknown_tenant_is_not_found(client, db):
    response = client.get("/hub/api/v1/auth/saml/metadata/tnt-nosuchone")

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"
    assert SigningKey.objects.count() == 0
