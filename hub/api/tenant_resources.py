"""The Tenant API's resource types: their attributes and relationships.

Attributes with a model path may be filtered and sorted on; the others are only
shown. Relationships are the ones ``include`` accepts.
"""

from contextvars import ContextVar

from .jsonapi import BOOLEAN, DECIMAL, INTEGER, TIME, Attribute, Relationship, register
from .jsonapi import Resource as R


def _field(name, kind="text", path=None):
    return Attribute(read=lambda obj: getattr(obj, name), path=path or name, kind=kind)


def _uid_of(relation):
    """Show and filter a to-one relationship by the related row's public uid."""
    return Attribute(
        read=lambda obj: getattr(obj, relation).uid,
        path=f"{relation}__uid",
        needs=(relation,),
    )


# Who reads in the current request: ``None`` for the tenant itself, or the person
# a per-user request acts as. A person sees no session but their own: anyone
# else's would let them act as that person. Unset, no session is shown.
session_reader = ContextVar("session_reader")
_NO_ONE = object()


def _sso_session(user):
    reader = session_reader.get(_NO_ONE)
    if reader is None or (reader is not _NO_ONE and reader.pk == user.pk):
        return user.sso_session
    return None


USERS = register(
    R(
        type="users",
        attributes={
            "email": _field("email"),
            "name": _field("name"),
            "surname": _field("surname"),
            "phone": _field("phone"),
            "company": _field("company"),
            "locale": _field("locale"),
            "timezone": _field("timezone"),
            "locked": Attribute(read=lambda user: user.is_locked()),
            "sso_session": Attribute(read=_sso_session),
            "created_at": _field("date_joined", TIME),
        },
        relationships={
            "organizations": Relationship("organizations", "organizations", many=True),
            "orga_relations": Relationship("orga_relations", "memberships", many=True),
            "teams": Relationship("teams", "teams", many=True),
        },
        default_sort=("date_joined", "pk"),
    )
)

ORGANIZATIONS = register(
    R(
        type="organizations",
        attributes={
            "name": _field("name"),
            "billing_currency": _field("currency"),
            "geo_country_code": _field("country"),
            "geo_tz": _field("timezone"),
            "financial_year_end_month": _field("financial_year_end_month", INTEGER),
            "free_trial_end_at": _field("free_trial_end_at", TIME),
            "account_frozen": _field("account_frozen", BOOLEAN),
            "external_id": _field("external_id"),
            "created_at": _field("created_at", TIME),
        },
        relationships={
            "users": Relationship("users", "members", many=True),
            "orga_relations": Relationship("orga_relations", "memberships", many=True),
            "app_instances": Relationship("app_instances", "app_instances", many=True),
            "teams": Relationship("teams", "teams", many=True),
            "orga_invites": Relationship("orga_invites", "invites", many=True),
        },
    )
)

ORGA_RELATIONS = register(
    R(
        type="orga_relations",
        attributes={
            "role": _field("role"),
            "user_id": _uid_of("user"),
            "organization_id": _uid_of("organization"),
            "created_at": _field("created_at", TIME),
        },
        relationships={
            "user": Relationship("users", "user"),
            "organization": Relationship("organizations", "organization"),
        },
        id_path="pk",
    )
)

ORGA_INVITES = register(
    R(
        type="orga_invites",
        attributes={
            "user_email": _field("email"),
            "user_role": _field("role"),
            "status": _field("status"),
            "organization_id": _uid_of("organization"),
            "created_at": _field("created_at", TIME),
            "sent_at": _field("sent_at", TIME),
            "answered_at": _field("answered_at", TIME),
            "expires_at": Attribute(read=lambda invite: invite.expires_at),
        },
        relationships={
            "organization": Relationship("organizations", "organization"),
            "team": Relationship("teams", "team"),
            "referrer": Relationship("users", "referrer"),
            "user": Relationship("users", "user"),
        },
        id_path="pk",
    )
)

TEAMS = register(
    R(
        type="teams",
        attributes={
            "name": _field("name"),
            "organization_id": _uid_of("organization"),
            "created_at": _field("created_at", TIME),
        },
        relationships={
            "organization": Relationship("organizations", "organization"),
            "users": Relationship("users", "members", many=True),
            "app_instances": Relationship("app_instances", "app_instances", many=True),
        },
        id_path="pk",
    )
)

APPS = register(
    R(
        type="apps",
        attributes={
            "nid": _field("nid"),
            "name": _field("name"),
            "description": _field("description"),
            "created_at": _field("created_at", TIME),
        },
    )
)

APP_INSTANCES = register(
    R(
        type="app_instances",
        attributes={
            "name": _field("name"),
            "status": _field("status"),
            "app_nid": Attribute(
                read=lambda i: i.app.nid, path="app__nid", needs=("app",)
            ),
            "owner_id": Attribute(
                read=lambda i: i.organization.uid,
                path="organization__uid",
                needs=("organization",),
            ),
            "owner_type": Attribute(read=lambda i: "Organization"),
            "created_at": _field("created_at", TIME),
            "terminated_at": _field("terminated_at", TIME),
        },
        relationships={
            "app": Relationship("apps", "app"),
            "owner": Relationship("organizations", "organization"),
        },
    )
)

BILLS = register(
    R(
        type="bills",
        attributes={
            "price_cents": _field("price_cents", INTEGER),
            "currency": _field("currency"),
            "units": _field("units", DECIMAL),
            "description": _field("description"),
            "status": _field("status"),
            "third_party": _field("third_party", BOOLEAN),
            "period_started_at": _field("period_started_at", TIME),
            "period_ended_at": _field("period_ended_at", TIME),
            "created_at": _field("created_at", TIME),
        },
        relationships={"app_instance": Relationship("app_instances", "app_instance")},
    )
)
