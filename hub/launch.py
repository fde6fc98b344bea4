"""Launching an app instance: who may, and where the browser goes to sign in.

A launch ends at the app's SSO start URL with ``group_id=<cld-…>``; the app then
asks the hub's identity provider to sign the person in to that company. Two doors
lead there (reference §3.4):

- ``/hub/launch/<cld>`` for a person signed in to the portal;
- ``/hub/api/mnoe/v1/launch/<cld>?wtk=<JWT>`` for a person coming from a tenant's
  own frontend, which vouches for them with a launch token: an HS256 JWT signed
  with ``"<tenant id>:<tenant key>"``, carrying ``iss`` (the tenant id), ``iat``,
  ``user_id`` (the person's uid) and a nonce, ``jti`` (the original frontends
  misspell it ``jit``; both are read).
"""

import hashlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import jwt
from django.db import IntegrityError, transaction

from maestrano import sealing, text

from . import selectors
from .errors import HubError
from .models import AppInstance, AppListing, LaunchNonce, Tenant, User
from .permissions import permitted

# How old a launch token may be, and how far the frontend's clock may run ahead
# of ours (or behind). A frontend signs the token as it redirects the browser,
# so a minute is plenty, and a stolen token is soon worthless.
TOKEN_MAX_AGE_SECONDS = 60
CLOCK_SKEW_SECONDS = 5
# Used nonces are kept this long past their token's expiry before being pruned,
# so that pruning never races a check happening right at the expiry.
NONCE_PRUNE_MARGIN = timedelta(minutes=5)


@dataclass(frozen=True)
class LaunchToken:
    """A launch token whose signature, issuer, age and person were checked."""

    tenant: Tenant
    user: User
    nonce: str
    expires_at: datetime


def launch_url(*, user: User, app_instance_uid: str) -> str:
    """Return where ``user`` goes to sign in to the app instance, or refuse.

    The person must be a member of the instance's organisation (the matrix's
    ``read``) and, team rules included, among those who may launch it
    (``selectors.app_instances_launchable``). An unknown instance is refused
    the same way, so that uids cannot be probed.
    """
    instance = (
        AppInstance.objects.select_related("app", "organization")
        .filter(uid=app_instance_uid)
        .first()
    )
    organization = instance.organization if instance else None
    allowed = (
        instance is not None
        and permitted(user, "read", organization)
        and selectors.app_instances_launchable(user, organization)
        .filter(pk=instance.pk)
        .exists()
    )
    if not allowed:
        raise HubError("launch_forbidden", app_instance=app_instance_uid)

    listing = AppListing.objects.filter(
        app_id=instance.app_id, tenant_id=organization.tenant_id, enabled=True
    ).first()
    if listing is None or not listing.host:
        raise HubError("app_not_launchable", app=instance.app.name)
    start = listing.host.rstrip("/") + "/" + listing.sso_init_path.lstrip("/")
    return f"{start}?{urlencode({'group_id': instance.uid})}"


def launch_token_verify(wtk: str, *, now: float | None = None) -> LaunchToken:
    """Check a tenant's launch token; return what it vouches for, or refuse.

    Nothing is written: ``launch_token_consume`` marks it used once the launch
    is known to be allowed.
    """
    now = time.time() if now is None else now
    tenant = _issuer(wtk)
    claims = _claims(wtk, tenant, now)

    age = now - claims["iat"]
    if age > TOKEN_MAX_AGE_SECONDS + CLOCK_SKEW_SECONDS:
        raise HubError("launch_token_expired", seconds=TOKEN_MAX_AGE_SECONDS)
    nonce = claims.get("jti") or claims.get("jit")
    if not isinstance(nonce, str) or not nonce:
        raise HubError("launch_token_invalid", reason="it carries no jti nonce")
    user_id = claims["user_id"]
    user = (
        selectors.user_in_customer_base(tenant.customer_base_id, user_id)
        if _is_identifier(user_id)
        else None
    )
    if user is None or not user.is_active:
        raise HubError(
            "launch_token_invalid",
            reason="its user_id is not a customer of this tenant",
        )

    expires = claims["iat"] + TOKEN_MAX_AGE_SECONDS + CLOCK_SKEW_SECONDS
    return LaunchToken(
        tenant=tenant,
        user=user,
        nonce=nonce,
        expires_at=datetime.fromtimestamp(expires, UTC),
    )


def _issuer(wtk):
    # The issuer names the secret, so it is read before the signature is checked;
    # the checked decode below requires the same issuer.
    try:
        unverified = jwt.decode(wtk, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        raise HubError("launch_token_invalid", reason="it is not a JWT") from None
    issuer = unverified.get("iss")
    tenant = (
        Tenant.objects.select_related("customer_base").filter(uid=issuer).first()
        if _is_identifier(issuer)
        else None
    )
    if tenant is None:
        raise HubError("launch_token_invalid", reason="its issuer is not a tenant")
    if not tenant.api_key_sealed:
        raise HubError("launch_key_unavailable", tenant=tenant.name)
    return tenant


def _is_identifier(claim):
    # JSON may spell a NUL (\u0000), which no uid holds and PostgreSQL refuses.
    return isinstance(claim, str) and claim != "" and not text.is_unstorable(claim)


def _claims(wtk, tenant, now):
    secret = f"{tenant.uid}:{sealing.unseal(tenant.api_key_sealed)}"
    try:
        # PyJWT refuses an iat in the future (beyond the skew) and an expired exp.
        return jwt.decode(
            wtk,
            secret,
            algorithms=["HS256"],
            issuer=tenant.uid,
            leeway=CLOCK_SKEW_SECONDS,
            options={"require": ["iss", "iat", "user_id"]},
        )
    except jwt.ExpiredSignatureError:
        raise HubError("launch_token_expired", seconds=TOKEN_MAX_AGE_SECONDS) from None
    except jwt.InvalidSignatureError:
        raise HubError(
            "launch_token_invalid", reason="its signature does not match"
        ) from None
    except jwt.ImmatureSignatureError:
        raise HubError(
            "launch_token_invalid", reason="it was issued in the future"
        ) from None
    except jwt.InvalidTokenError as problem:
        raise HubError(
            "launch_token_invalid", reason=str(problem).rstrip(".")
        ) from None


@transaction.atomic
def launch_token_consume(token: LaunchToken, *, now: datetime | None = None) -> None:
    """Mark the token used; refuse it if it already was."""
    now = now or datetime.now(UTC)
    LaunchNonce.objects.filter(expires_at__lt=now - NONCE_PRUNE_MARGIN).delete()

    digest = hashlib.sha256(token.nonce.encode()).hexdigest()
    try:
        with transaction.atomic():
            LaunchNonce.objects.create(
                tenant=token.tenant, nonce_digest=digest, expires_at=token.expires_at
            )
    except IntegrityError:
        raise HubError("launch_token_replayed") from None
