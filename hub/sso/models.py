from django.db import models
from django.utils.timezone import now

from hub.models import Tenant


class SigningKey(models.Model):
    """The RSA key and self-signed certificate that sign one tenant's assertions.

    Apps pin the certificate's SHA-1 fingerprint (the original SDKs compare it with
    their configuration), so a new key must reach every app of the tenant before
    it signs anything. The private key is kept sealed (``maestrano.sealing``).
    """

    tenant = models.OneToOneField(
        Tenant, on_delete=models.CASCADE, related_name="saml_signing_key"
    )
    private_key_sealed = models.TextField(editable=False)
    certificate_pem = models.TextField("certificate (PEM)", editable=False)
    fingerprint_sha1 = models.CharField(
        "SHA-1 fingerprint", max_length=59, editable=False
    )
    created_at = models.DateTimeField(default=now, editable=False)

    def __str__(self):
        return f"SAML signing key of {self.tenant} ({self.fingerprint_sha1})"
