"""Reads of single sign-on: which app asks, where it may be answered, what it learns."""

import json
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings

from hub import permissions
from hub import selectors as hub_selectors
from hub.models import AppInstance, AppListing, Membership, Organization, User

from .errors import SsoError
from .saml import saml_time

# When apps must ask again whether the person's hub session still holds (§4.8).
SESSION_RECHECK = timedelta(minutes=3)
# The role apps are told for a person who is not a member (reference §4.5).
GUEST_ROLE = "Guest"


def app_listing_for_issuer(issuer: str) -> AppListing | None:
    """Return the enabled listing whose API id an AuthnRequest names as Issuer."""
    return (
        AppListing.objects.select_related("app", "tenant")
        .filter(api_id=issuer, enabled=True)
        .first()
    )


def assertion_consumer_url(listing: AppListing, requested: str) -> str:
    """Return where the answer goes: the requested URL, if on the app's host.

    Without one, the listing's own consume path applies. A URL elsewhere raises
    ``SsoError``: the assertion is a bearer credential for whoever receives it.
    """
    if not requested:
        if not listing.host:
            raise SsoError("saml_acs_not_allowed", app=listing.app.name, acs_url="")
        return listing.host.rstrip("/") + "/" + listing.sso_consume_path.lstrip("/")

    origin = _origin(requested)
    if origin is None or origin != _origin(listing.host):
        raise SsoError("saml_acs_not_allowed", app=listing.app.name, acs_url=requested)
    return requested


def _origin(url):
    if any(character.isspace() or character == "\\" for character in url):
        return None
    try:
        # Both refuse what is not a URL: a bracketed host that is no IPv6
        # address, a port out of range.
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return None
        port = parts.port or {"http": 80, "https": 443}[parts.scheme]
    except ValueError:
        return None
    return parts.scheme, parts.hostname.lower(), port


def audience_of(acs_url: str) -> str:
    """Return the scheme and host of the ACS, the audience the SDKs expect."""
    parts = urlsplit(acs_url)
    return f"{parts.scheme}://{parts.netloc}"


def app_instances_for_sign_on(user: User, listing: AppListing) -> list[AppInstance]:
    """Return the instances of the listing's app that ``user`` may sign in to.

    Only organisations of the listing's tenant count; in each, the launch rule of
    ``hub.selectors.app_instances_launchable`` (role and teams) applies. Each
    instance comes with its organisation loaded, sorted by company name.
    """
    organizations = (
        Organization.objects.filter(
            memberships__user=user,
            tenant_id=listing.tenant_id,
            app_instances__app_id=listing.app_id,
            app_instances__status__in=AppInstance.ACTIVE_STATUSES,
        )
        .distinct()
        .order_by("name", "uid")
    )
    instances = []
    for organization in organizations:
        launchable = hub_selectors.app_instances_launchable(user, organization)
        for instance in launchable.filter(app_id=listing.app_id):
            instance.organization = organization
            instances.append(instance)
    return instances


def assertion_attributes(
    *, user: User, app_instance: AppInstance, app_instances, at
) -> dict[str, str]:
    """Return every attribute of reference §4.5, as the SDKs read them.

    ``app_instances`` are the instances of the app the person may sign in to: the
    2014 ``organizations`` attribute lists their companies.
    """
    organization = app_instance.organization
    companies = {instance.organization for instance in app_instances}
    companies.add(organization)
    roles = dict(
        Membership.objects.filter(user=user, organization__in=companies).values_list(
            "organization_id", "role"
        )
    )
    role = roles.get(organization.pk, GUEST_ROLE)
    virtual_uid = f"{user.uid}.{app_instance.uid}"

    return {
        "mno_uid": user.uid,
        "uid": user.uid,
        "virtual_uid": virtual_uid,
        "email": user.email,
        "virtual_email": f"{virtual_uid}@{settings.VIRTUAL_EMAIL_DOMAIN}",
        "name": user.name,
        "surname": user.surname,
        "country": _user_country(user, organization),
        "company_name": user.company,
        "mno_session": user.sso_session,
        "mno_session_recheck": saml_time(at + SESSION_RECHECK),
        "group_uid": app_instance.uid,
        "group_org_uid": organization.uid,
        "group_name": organization.name,
        "group_email": _principal_email(organization),
        "group_role": role,
        "group_end_free_trial": _optional_time(organization.free_trial_end_at),
        # Limitation: payment cards, cities and resellers are not modelled yet, so
        # apps are told there is no card and get empty city and reseller.
        "group_has_credit_card": "false",
        "group_currency": organization.currency,
        "group_timezone": organization.timezone,
        "group_country": organization.country,
        "group_city": "",
        "group_reseller_id": "",
        "app_owner": _bool(role in permissions.MATRIX["manage_app_instances"]),
        "organizations": json.dumps(
            {
                company.uid: {"name": company.name, "role": roles[company.pk]}
                for company in sorted(companies, key=lambda company: company.uid)
                if company.pk in roles
            },
            separators=(",", ":"),
        ),
    }


def _user_country(user, organization):
    # People have no country of their own yet: the region of their locale, else
    # the company's. The Ruby SDK also reads the group's country from this one.
    _, _, region = user.locale.partition("-")
    return region or organization.country


def _principal_email(organization):
    # The first Super Admin, as the Developer API shows the group's e-mail.
    return (
        Membership.objects.filter(
            organization=organization, role=Membership.Role.SUPER_ADMIN
        )
        .order_by("created_at", "id")
        .values_list("user__email", flat=True)
        .first()
        or ""
    )


def _optional_time(moment):
    return saml_time(moment) if moment is not None else ""


def _bool(value):
    return "true" if value else "false"
