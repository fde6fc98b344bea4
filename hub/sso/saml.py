"""SAML 2.0 on the wire: the AuthnRequests apps send, the Responses they get back.

The shapes follow what the original SDKs produce and check (reference §4.3–4.5).
Signing and canonicalisation are signxml's; this module only lays out elements.
"""

import base64
import binascii
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from lxml import etree
from signxml import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureMethod,
    XMLSigner,
)

from .errors import SsoError

PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol"
ASSERTION = "urn:oasis:names:tc:SAML:2.0:assertion"
METADATA = "urn:oasis:names:tc:SAML:2.0:metadata"
DSIG = "http://www.w3.org/2000/09/xmldsig#"

NAMEID_PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
PASSWORD_PROTECTED_TRANSPORT = (
    "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
)
ATTRIBUTE_NAME_BASIC = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"
HTTP_REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"

# How long the app has to consume the answer, and for how long the assertion
# holds. NotBefore is back-dated because the Ruby SDK allows no clock drift.
SUBJECT_VALIDITY = timedelta(minutes=3)
CONDITIONS_VALIDITY = timedelta(hours=1)
CLOCK_SKEW = timedelta(seconds=5)

# An AuthnRequest is a few hundred bytes; this bounds what a crafted one inflates to.
MAX_REQUEST_BYTES = 64 * 1024
MAX_FIELD_LENGTH = 1024


@dataclass(frozen=True)
class AuthnRequest:
    id: str
    issuer: str
    # Empty when the request names none; the app's configured one applies.
    acs_url: str


def authn_request_decode(encoded: str | None) -> AuthnRequest:
    """Read a ``SAMLRequest`` of the HTTP-Redirect binding, or raise ``SsoError``."""
    if not encoded:
        raise SsoError("saml_request_missing")

    document = _inflate(_base64_decode(encoded))
    root = _parse(document)
    if root.tag != f"{{{PROTOCOL}}}AuthnRequest":
        raise SsoError("saml_request_malformed")

    request_id = (root.get("ID") or "").strip()
    issuer = (root.findtext(f"{{{ASSERTION}}}Issuer") or "").strip()
    acs_url = (root.get("AssertionConsumerServiceURL") or "").strip()
    if not request_id or not issuer:
        raise SsoError("saml_request_malformed")
    if max(len(request_id), len(issuer), len(acs_url)) > MAX_FIELD_LENGTH:
        raise SsoError("saml_request_malformed")
    return AuthnRequest(id=request_id, issuer=issuer, acs_url=acs_url)


def _base64_decode(encoded):
    # The Ruby SDK wraps its base64 every 60 characters, and a client that forgets
    # to escape "+" in the query string makes it arrive as a space.
    compact = "".join(encoded.replace(" ", "+").split())
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as error:
        raise SsoError("saml_request_undecodable") from error


def _inflate(compressed):
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        document = inflater.decompress(compressed, MAX_REQUEST_BYTES)
    except zlib.error as error:
        raise SsoError("saml_request_undecodable") from error
    if not inflater.eof or inflater.unconsumed_tail:
        raise SsoError("saml_request_undecodable")
    return document


def _parse(document):
    # No DTD, no entities, no network: an AuthnRequest needs none of them.
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(document, parser)
    except etree.XMLSyntaxError as error:
        raise SsoError("saml_request_malformed") from error
    if root.getroottree().docinfo.doctype:
        raise SsoError("saml_request_malformed")
    return root


def certificate_fingerprint(certificate_pem: str) -> str:
    """Return the SHA-1 fingerprint as the SDKs print it: ``AB:12:…``."""
    certificate = x509.load_pem_x509_certificate(certificate_pem.encode())
    return certificate.fingerprint(hashes.SHA1()).hex(":").upper()


def saml_time(moment: datetime) -> str:
    # Whole seconds in UTC, which every SDK's parser reads.
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _new_id():
    # IDs are XML NCNames, which cannot start with a digit.
    return f"_{uuid.uuid4().hex}"


def _saml(tag):
    return f"{{{ASSERTION}}}{tag}"


def _samlp(tag):
    return f"{{{PROTOCOL}}}{tag}"


@dataclass(frozen=True)
class Assertion:
    """What the identity provider states about the person, for one app."""

    issuer: str
    name_id: str
    audiences: list[str]
    attributes: dict[str, str]
    authn_instant: datetime
    at: datetime


def response_sign(
    *,
    request: AuthnRequest,
    acs_url: str,
    assertion: Assertion,
    private_key_pem: str,
    certificate_pem: str,
) -> bytes:
    """Return the XML of a Success ``Response`` whose assertion is signed.

    The signature is enveloped in the assertion, right after its Issuer, with
    RSA-SHA256 over exclusive canonicalisation, and carries the certificate.
    """
    signed = _signer().sign(
        _assertion_element(request, acs_url, assertion),
        key=private_key_pem,
        cert=certificate_pem,
    )

    response = etree.Element(
        _samlp("Response"),
        nsmap={"samlp": PROTOCOL, "saml": ASSERTION},
        ID=_new_id(),
        Version="2.0",
        IssueInstant=saml_time(assertion.at),
        Destination=acs_url,
        InResponseTo=request.id,
    )
    etree.SubElement(response, _saml("Issuer")).text = assertion.issuer
    status = etree.SubElement(response, _samlp("Status"))
    etree.SubElement(status, _samlp("StatusCode"), Value=SUCCESS)
    response.append(signed)
    return etree.tostring(response, xml_declaration=True, encoding="UTF-8")


def _signer():
    return XMLSigner(
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    )


def _assertion_element(request, acs_url, assertion):
    at = assertion.at
    assertion_id = _new_id()
    root = etree.Element(
        _saml("Assertion"),
        nsmap={"saml": ASSERTION},
        ID=assertion_id,
        Version="2.0",
        IssueInstant=saml_time(at),
    )
    etree.SubElement(root, _saml("Issuer")).text = assertion.issuer
    # The schema puts the signature right after the Issuer; signxml fills this in.
    etree.SubElement(root, f"{{{DSIG}}}Signature", nsmap={"ds": DSIG}, Id="placeholder")

    subject = etree.SubElement(root, _saml("Subject"))
    name_id = etree.SubElement(subject, _saml("NameID"), Format=NAMEID_PERSISTENT)
    name_id.text = assertion.name_id
    confirmation = etree.SubElement(
        subject, _saml("SubjectConfirmation"), Method=BEARER
    )
    etree.SubElement(
        confirmation,
        _saml("SubjectConfirmationData"),
        NotOnOrAfter=saml_time(at + SUBJECT_VALIDITY),
        Recipient=acs_url,
        InResponseTo=request.id,
    )

    conditions = etree.SubElement(
        root,
        _saml("Conditions"),
        NotBefore=saml_time(at - CLOCK_SKEW),
        NotOnOrAfter=saml_time(at + CONDITIONS_VALIDITY),
    )
    restriction = etree.SubElement(conditions, _saml("AudienceRestriction"))
    for audience in assertion.audiences:
        etree.SubElement(restriction, _saml("Audience")).text = audience

    authn = etree.SubElement(
        root,
        _saml("AuthnStatement"),
        AuthnInstant=saml_time(assertion.authn_instant),
        SessionIndex=assertion_id,
    )
    context = etree.SubElement(authn, _saml("AuthnContext"))
    class_ref = etree.SubElement(context, _saml("AuthnContextClassRef"))
    class_ref.text = PASSWORD_PROTECTED_TRANSPORT

    statement = etree.SubElement(root, _saml("AttributeStatement"))
    for name, value in assertion.attributes.items():
        attribute = etree.SubElement(
            statement, _saml("Attribute"), Name=name, NameFormat=ATTRIBUTE_NAME_BASIC
        )
        etree.SubElement(attribute, _saml("AttributeValue")).text = value
    return root


def metadata_xml(*, entity_id: str, sso_url: str, certificate_pem: str) -> bytes:
    """Return the identity provider's metadata: its id, certificate and SSO URL."""
    md = f"{{{METADATA}}}"
    ds = f"{{{DSIG}}}"
    root = etree.Element(
        f"{md}EntityDescriptor",
        nsmap={"md": METADATA, "ds": DSIG},
        entityID=entity_id,
    )
    descriptor = etree.SubElement(
        root,
        f"{md}IDPSSODescriptor",
        WantAuthnRequestsSigned="false",
        protocolSupportEnumeration=PROTOCOL,
    )
    key_descriptor = etree.SubElement(descriptor, f"{md}KeyDescriptor", use="signing")
    key_info = etree.SubElement(key_descriptor, f"{ds}KeyInfo")
    x509_data = etree.SubElement(key_info, f"{ds}X509Data")
    etree.SubElement(x509_data, f"{ds}X509Certificate").text = _pem_body(
        certificate_pem
    )
    etree.SubElement(descriptor, f"{md}NameIDFormat").text = NAMEID_PERSISTENT
    etree.SubElement(
        descriptor, f"{md}SingleSignOnService", Binding=HTTP_REDIRECT, Location=sso_url
    )
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _pem_body(certificate_pem):
    lines = certificate_pem.strip().splitlines()
    return "".join(line for line in lines if not line.startswith("-----"))
