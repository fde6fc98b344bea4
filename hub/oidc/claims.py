"""What an ID token and the userinfo answer say about a person and their company.

The claims follow the SAML attributes of the original platform (reference §4.5),
under the names that the OpenID variant mapped them to (§4.10).
"""

from datetime import UTC, datetime, timedelta

from django.conf import settings

from hub.models import AppInstance, Membership, User

# How long an app may trust a session before asking the hub again, as the SAML
# assertion's ``mno_session_recheck`` always said.
SESSION_RECHECK = timedelta(minutes=3)

# Claim -> the scope that releases it.
CLAIM_SCOPES = {
    "sub": "openid",
    "mno_session": "openid",
    "mno_session_recheck": "openid",
    "given_name": "profile",
    "family_name": "profile",
    "locale": "profile",
    "zoneinfo": "profile",
    "email": "email",
    "group_uid": "group",
    "group_org_uid": "group",
    "group_role": "group",
    "group_name": "group",
    "group_currency": "group",
    "group_timezone": "group",
    "group_country": "group",
    "virtual_uid": "group",
    "virtual_email": "group",
}


def virtual_uid(user: User, app_instance: AppInstance) -> str:
    """Return the identity of one person in one company, for single-company apps."""
    return f"{user.uid}.{app_instance.uid}"


def person_claims(user: User, *, at: datetime) -> dict:
    recheck = (at + SESSION_RECHECK).astimezone(UTC).replace(microsecond=0)
    return {
        "sub": user.uid,
        "mno_session": user.sso_session,
        "mno_session_recheck": recheck.isoformat().replace("+00:00", "Z"),
        "given_name": user.name,
        "family_name": user.surname,
        "locale": user.locale,
        "zoneinfo": user.timezone,
        "email": user.email,
    }


def group_claims(user: User, app_instance: AppInstance) -> dict:
    organization = app_instance.organization
    role = (
        Membership.objects.filter(user=user, organization=organization)
        .values_list("role", flat=True)
        .first()
    )
    alias = virtual_uid(user, app_instance)
    return {
        "group_uid": app_instance.uid,
        "group_org_uid": organization.uid,
        # The original platform called a non-member "Guest".
        "group_role": role or "Guest",
        "group_name": organization.name,
        "group_currency": organization.currency,
        "group_timezone": organization.timezone,
        "group_country": organization.country,
        "virtual_uid": alias,
        "virtual_email": f"{alias}@{settings.VIRTUAL_EMAIL_DOMAIN}",
    }


def sign_in_claims(
    user: User, app_instance: AppInstance | None, *, at: datetime
) -> dict:
    """Return every claim about ``user``, in ``app_instance`` when there is one."""
    claims = person_claims(user, at=at)
    if app_instance is not None:
        claims.update(group_claims(user, app_instance))
    return claims
