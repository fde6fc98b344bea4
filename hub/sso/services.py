"""Writes of single sign-on: signing keys, and the signed answers to apps."""

import base64
import logging
from datetime import timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.db import transaction
from django.utils.timezone import now

from hub.models import AppInstance, AppListing, Tenant, User
from maestrano import sealing

from . import saml, selectors
from .models import SigningKey

logger = logging.getLogger(__name__)

KEY_SIZE = 2048
# Apps pin the fingerprint rather than trust a chain, so a long life costs little
# and spares every app a forced re-configuration.
CERTIFICATE_VALIDITY = timedelta(days=3650)


def signing_key_ensure(*, tenant: Tenant) -> SigningKey:
    """Return the tenant's signing key, making it on first use."""
    signing_key = SigningKey.objects.filter(tenant=tenant).first()
    if signing_key is not None:
        return signing_key

    # Two first requests at once both make a key; the unique tenant keeps one.
    signing_key, created = SigningKey.objects.get_or_create(
        tenant=tenant, defaults=_signing_key_fields(tenant)
    )
    if created:
        logger.info(
            "saml signing key created tenant=%s fingerprint=%s",
            tenant.uid,
            signing_key.fingerprint_sha1,
        )
    return signing_key


@transaction.atomic
def signing_key_rotate(*, tenant: Tenant) -> SigningKey:
    """Give the tenant a new signing key at once.

    Every app of the tenant refuses the new signatures until it is told the new
    fingerprint (the marketplace configuration and the metadata show it at once).
    """
    fields = _signing_key_fields(tenant)
    signing_key, _ = SigningKey.objects.update_or_create(
        tenant=tenant, defaults={**fields, "created_at": now()}
    )
    logger.warning(
        "saml signing key rotated tenant=%s fingerprint=%s",
        tenant.uid,
        signing_key.fingerprint_sha1,
    )
    return signing_key


def _signing_key_fields(tenant):
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
    # X.520 caps names at 64 characters; the uid keeps the subject unique.
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, tenant.name[:64]),
            x509.NameAttribute(NameOID.COMMON_NAME, f"SAML IdP {tenant.uid}"),
        ]
    )
    at = now()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(at - timedelta(minutes=5))
        .not_valid_after(at + CERTIFICATE_VALIDITY)
        .sign(private_key, hashes.SHA256())
    )
    private_key_pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    certificate_pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    return {
        "private_key_sealed": sealing.seal(private_key_pem),
        "certificate_pem": certificate_pem,
        "fingerprint_sha1": saml.certificate_fingerprint(certificate_pem),
    }


def saml_response_issue(
    *,
    listing: AppListing,
    request: saml.AuthnRequest,
    acs_url: str,
    user: User,
    app_instance: AppInstance,
    app_instances: list[AppInstance],
    idp_entity_id: str,
) -> str:
    """Return the base64 ``SAMLResponse`` that signs ``user`` in to ``app_instance``.

    The caller has checked that the person may launch the instance and that
    ``acs_url`` belongs to the app.
    """
    at = now()
    signing_key = signing_key_ensure(tenant=listing.tenant)
    assertion = saml.Assertion(
        issuer=idp_entity_id,
        name_id=user.uid,
        # The original platform's audience, then the SP's own entity id (its
        # Issuer), which standard SAML libraries look for.
        audiences=[selectors.audience_of(acs_url), listing.api_id],
        attributes=selectors.assertion_attributes(
            user=user, app_instance=app_instance, app_instances=app_instances, at=at
        ),
        authn_instant=user.last_login or at,
        at=at,
    )
    document = saml.response_sign(
        request=request,
        acs_url=acs_url,
        assertion=assertion,
        private_key_pem=sealing.unseal(signing_key.private_key_sealed),
        certificate_pem=signing_key.certificate_pem,
    )
    logger.info(
        "saml response issued user=%s group=%s app=%s",
        user.uid,
        app_instance.uid,
        listing.api_id,
    )
    return base64.b64encode(document).decode()
