"""The Tenant API (``/hub/api/mnoe/v2/``) that marketplace frontends call, in JSON:API.

A tenant authenticates with its id and key and reaches the rows of its customer
base only: anything else is not found. Writes that the permission matrix governs
name the person acting as ``meta.acting_user_id`` in the body (or
``_metadata[acting_user_id]`` in the query), and the matrix is applied to them.

A frontend may instead send a person's ``sso_session`` as the Basic username with
an empty password. The request then acts as that person: it reaches only their
organisations and what hangs off them, every write is theirs (any
``acting_user_id`` is ignored), and tenant-only actions are refused.
"""

from rest_framework.response import Response
from rest_framework.views import APIView

from hub import app_syncs, selectors, services
from hub.billing import selectors as billing_selectors
from hub.errors import HubError
from hub.models import App, Membership, Team
from maestrano.errors import ApiError
from maestrano.parsers import JSONParser

from . import jsonapi
from . import tenant_resources as resources
from .authentication import IsTenant, TenantCredentialsAuthentication, UserSession

BASE_URL = "/hub/api/mnoe/v2/"


class TenantApiView(APIView):
    authentication_classes = [TenantCredentialsAuthentication]
    permission_classes = [IsTenant]
    parser_classes = [jsonapi.JsonApiParser, JSONParser]
    renderer_classes = [jsonapi.JsonApiRenderer]

    def get_exception_handler(self):
        return jsonapi.exception_handler

    def perform_content_negotiation(self, request, force=False):
        # Every client gets the JSON:API document, whatever its Accept header.
        renderer = self.renderer_classes[0]()
        return renderer, renderer.media_type

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self._session_reader = resources.session_reader.set(self.session_user)

    def finalize_response(self, request, response, *args, **kwargs):
        if hasattr(self, "_session_reader"):
            resources.session_reader.reset(self._session_reader)
            del self._session_reader
        return super().finalize_response(request, response, *args, **kwargs)

    @property
    def tenant(self):
        auth = self.request.auth
        return auth.tenant if isinstance(auth, UserSession) else auth

    @property
    def session_user(self):
        """The person a per-user request acts as; ``None`` for the tenant."""
        auth = self.request.auth
        return auth.user if isinstance(auth, UserSession) else None

    def tenant_only(self):
        if self.session_user is not None:
            raise ApiError(
                403,
                "tenant_credentials_required",
                "Tenant credentials required",
                "Only the tenant's own id and key may do this.",
            )

    def organizations(self):
        if self.session_user is not None:
            return selectors.organizations_for_user(self.session_user)
        return selectors.organizations_for_tenant(self.tenant)

    def document(self, resource, obj, *, status=200):
        body = jsonapi.resource_document(resource, obj, self.request, BASE_URL)
        return Response(body, status=status)

    def find(self, resource, queryset, id_):
        if resource.id_path == "pk" and not jsonapi.is_whole_number(str(id_)):
            raise jsonapi.not_found(resource.type, id_)
        obj = queryset.filter(**{resource.id_path: id_}).first()
        if obj is None:
            raise jsonapi.not_found(resource.type, id_)
        return obj

    def find_many(self, resource, queryset, ids):
        """Return the rows of ``ids`` in one query; any one missing is not found."""
        for id_ in ids:
            if resource.id_path == "pk" and not jsonapi.is_whole_number(id_):
                raise jsonapi.not_found(resource.type, id_)
        rows = queryset.filter(**{f"{resource.id_path}__in": ids})
        found = {resource.identify(obj): obj for obj in rows}
        for id_ in ids:
            if id_ not in found:
                raise jsonapi.not_found(resource.type, id_)
        return [found[id_] for id_ in ids]

    def users_reachable(self):
        if self.session_user is not None:
            return selectors.users_visible_to(self.session_user)
        return selectors.users_for_tenant(self.tenant)

    def app_instances_reachable(self):
        if self.session_user is not None:
            return selectors.app_instances_visible_to(self.session_user)
        return selectors.app_instances_for_tenant(self.tenant)

    def acting_user(self, *, required):
        if self.session_user is not None:
            return self.session_user

        uid = jsonapi.submitted_meta(self.request, "acting_user_id")
        if uid is None:
            if required:
                raise ApiError(
                    400,
                    "acting_user_required",
                    "Acting user required",
                    "Name the person acting as meta.acting_user_id.",
                    field="/meta/acting_user_id",
                )
            return None
        user = selectors.user_in_customer_base(self.tenant.customer_base, uid)
        if user is None:
            raise ApiError(
                422,
                "unknown_acting_user",
                "Unknown acting user",
                f"No person of this marketplace has the id {uid}.",
                field="/meta/acting_user_id",
            )
        return user


class ResourceList(TenantApiView):
    resource = None
    queryset = None  # tenant -> the rows it may see
    user_queryset = None  # person -> the rows they may see

    def rows(self):
        if self.session_user is not None:
            return type(self).user_queryset(self.session_user)
        return type(self).queryset(self.tenant)

    def get(self, request):
        queryset = self.rows()
        body = jsonapi.collection_document(self.resource, queryset, request, BASE_URL)
        return Response(body)


class ResourceDetail(TenantApiView):
    resource = None
    queryset = None
    user_queryset = None
    rows = ResourceList.rows

    def get(self, request, id):
        return self.document(self.resource, self.object(id))

    def object(self, id):
        return self.find(self.resource, self.rows(), id)


def _list_and_detail(resource, queryset, user_queryset):
    attributes = {
        "resource": resource,
        "queryset": staticmethod(queryset),
        "user_queryset": staticmethod(user_queryset),
    }
    name = resource.type.title().replace("_", "")
    return (
        type(f"{name}List", (ResourceList,), attributes),
        type(f"{name}Detail", (ResourceDetail,), attributes),
    )


def _catalogue_of_user(user):
    return selectors.apps_for_tenant(selectors.tenant_for_user(user))


AppList, AppDetail = _list_and_detail(
    resources.APPS, selectors.apps_for_tenant, _catalogue_of_user
)
BillList, BillDetail = _list_and_detail(
    resources.BILLS,
    billing_selectors.bills_for_tenant,
    billing_selectors.bills_visible_to,
)
AppInstanceList, AppInstanceDetail = _list_and_detail(
    resources.APP_INSTANCES,
    selectors.app_instances_for_tenant,
    selectors.app_instances_visible_to,
)


# Users


USER_PROFILE_ATTRIBUTES = services.USER_PROFILE_FIELDS


class UserList(ResourceList):
    resource = resources.USERS
    queryset = staticmethod(selectors.users_for_tenant)
    user_queryset = staticmethod(selectors.users_visible_to)

    def post(self, request):
        self.tenant_only()
        attributes, _ = jsonapi.submitted(
            request, "users", ("email", "password", *USER_PROFILE_ATTRIBUTES)
        )
        credentials = {}
        for name in ("email", "password"):
            value = attributes.pop(name, None)
            if not isinstance(value, str) or not value:
                raise jsonapi.invalid_attribute(name, f"A new user needs an {name}.")
            credentials[name] = value

        user = services.user_create(
            customer_base=self.tenant.customer_base, **credentials, **attributes
        )
        return self.document(self.resource, user, status=201)


class UserDetail(ResourceDetail):
    resource = resources.USERS
    queryset = staticmethod(selectors.users_for_tenant)
    user_queryset = staticmethod(selectors.users_visible_to)

    def patch(self, request, id):
        user = self.object(id)
        attributes, _ = jsonapi.submitted(request, "users", USER_PROFILE_ATTRIBUTES)

        # The tenant changes anyone's profile; a person only their own.
        user = services.user_profile_update(
            user=user, actor=self.session_user, **attributes
        )
        return self.document(self.resource, user)


class UserAuthenticate(TenantApiView):
    def post(self, request):
        self.tenant_only()
        attributes, _ = jsonapi.submitted(request, "users", ("email", "password"))
        try:
            user = services.user_login_attempt(
                customer_base=self.tenant.customer_base,
                email=str(attributes.get("email") or ""),
                password=str(attributes.get("password") or ""),
            )
        except HubError as error:
            if error.code != "invalid_credentials":
                raise
            # The original answered a wrong e-mail or password with 404: the
            # tenant's own credentials were fine, only no such user matched.
            error.status = 404
            raise
        return self.document(resources.USERS, user)


# Organisations


ORGANIZATION_ATTRIBUTES = {
    "name": "name",
    "billing_currency": "currency",
    "geo_country_code": "country",
    "geo_tz": "timezone",
    "financial_year_end_month": "financial_year_end_month",
    "external_id": "external_id",
}


def _organization_fields(attributes):
    return {ORGANIZATION_ATTRIBUTES[name]: value for name, value in attributes.items()}


class OrganizationList(ResourceList):
    resource = resources.ORGANIZATIONS
    queryset = staticmethod(selectors.organizations_for_tenant)
    user_queryset = staticmethod(selectors.organizations_for_user)

    def post(self, request):
        attributes, _ = jsonapi.submitted(
            request, "organizations", ORGANIZATION_ATTRIBUTES
        )
        fields = _organization_fields(attributes)
        if "name" not in fields:
            raise jsonapi.invalid_attribute("name", "An organisation needs a name.")

        organization = services.organization_create(
            tenant=self.tenant, owner=self.acting_user(required=False), **fields
        )
        return self.document(self.resource, organization, status=201)


class OrganizationDetail(ResourceDetail):
    resource = resources.ORGANIZATIONS
    queryset = staticmethod(selectors.organizations_for_tenant)
    user_queryset = staticmethod(selectors.organizations_for_user)

    def patch(self, request, id):
        organization = self.object(id)
        attributes, _ = jsonapi.submitted(
            request, "organizations", ORGANIZATION_ATTRIBUTES
        )

        organization = services.organization_update(
            actor=self.acting_user(required=True),
            organization=organization,
            **_organization_fields(attributes),
        )
        return self.document(self.resource, organization)


class OrganizationFreeze(OrganizationDetail):
    http_method_names = ["patch"]
    frozen = True

    def patch(self, request, id):
        self.tenant_only()
        organization = services.organization_freeze(
            organization=self.object(id), frozen=self.frozen
        )
        return self.document(self.resource, organization)


class OrganizationUnfreeze(OrganizationFreeze):
    frozen = False


class OrganizationAppsSync(OrganizationDetail):
    """``trigger_app_instances_sync``: ask the organisation's connectors to sync."""

    http_method_names = ["post"]

    def post(self, request, id):
        organization = self.object(id)

        app_instances = app_syncs.organization_apps_sync_request(
            organization=organization, actor=self.acting_user(required=False)
        )
        body = {"meta": {"app_instances": [item.uid for item in app_instances]}}
        return Response(body, status=202)


# Memberships (orga_relations)


class OrgaRelationList(ResourceList):
    resource = resources.ORGA_RELATIONS
    queryset = staticmethod(selectors.memberships_for_tenant)
    user_queryset = staticmethod(selectors.memberships_visible_to)

    def post(self, request):
        attributes, related = jsonapi.submitted(
            request, "orga_relations", ("role",), ("user", "organization")
        )
        user = self._related(
            resources.USERS, selectors.users_for_tenant(self.tenant), related, "user"
        )
        organization = self._related(
            resources.ORGANIZATIONS, self.organizations(), related, "organization"
        )

        membership = services.membership_create(
            actor=self.acting_user(required=True),
            organization=organization,
            user=user,
            role=attributes.get("role", Membership.Role.MEMBER),
        )
        return self.document(self.resource, membership, status=201)

    def _related(self, resource, queryset, related, name):
        if name not in related:
            raise ApiError(
                422,
                "relationship_required",
                "Relationship required",
                f"Name the {name}.",
                field=f"/data/relationships/{name}",
            )
        return self.find(resource, queryset, related[name])


class OrgaRelationDetail(ResourceDetail):
    resource = resources.ORGA_RELATIONS
    queryset = staticmethod(selectors.memberships_for_tenant)
    user_queryset = staticmethod(selectors.memberships_visible_to)

    def patch(self, request, id):
        membership = self.object(id)
        attributes, _ = jsonapi.submitted(request, "orga_relations", ("role",))
        if "role" not in attributes:
            raise jsonapi.invalid_attribute("role", "Give the new role.")

        membership = services.membership_role_change(
            actor=self.acting_user(required=True),
            membership=membership,
            role=attributes["role"],
        )
        return self.document(self.resource, membership)


# Invites


class OrgaInviteList(ResourceList):
    resource = resources.ORGA_INVITES
    queryset = staticmethod(selectors.invites_for_tenant)
    user_queryset = staticmethod(selectors.invites_visible_to)

    def post(self, request):
        attributes, related = jsonapi.submitted(
            request,
            "orga_invites",
            ("user_email", "user_role", "organization_id"),
            ("team",),
        )
        organization = self.find(
            resources.ORGANIZATIONS,
            self.organizations(),
            attributes.get("organization_id"),
        )
        team = None
        if "team" in related:
            team = self.find(
                resources.TEAMS,
                Team.objects.filter(organization=organization),
                related["team"],
            )

        invite = services.invite_create(
            actor=self.acting_user(required=True),
            organization=organization,
            email=str(attributes.get("user_email") or ""),
            role=attributes.get("user_role", Membership.Role.MEMBER),
            team=team,
        )
        return self.document(self.resource, invite, status=201)


class OrgaInviteDetail(ResourceDetail):
    resource = resources.ORGA_INVITES
    queryset = staticmethod(selectors.invites_for_tenant)
    user_queryset = staticmethod(selectors.invites_visible_to)


class OrgaInviteSend(OrgaInviteDetail):
    """Make a staged invite pending and e-mail it (POST, or PATCH as accept does)."""

    http_method_names = ["post", "patch"]

    def post(self, request, id):
        invite = self.object(id)
        attributes, _ = jsonapi.submitted(request, "orga_invites", ("accept_url",))
        # A person's request may only link to the marketplace's own address.
        accept_host = self.tenant.domain if self.session_user is not None else None

        invite = services.invite_send(
            actor=self.acting_user(required=True),
            invite=invite,
            accept_url=str(attributes.get("accept_url") or ""),
            accept_host=accept_host,
        )
        return self.document(self.resource, invite)

    patch = post


class OrgaInviteCancel(OrgaInviteDetail):
    """Withdraw an invite; it stays on record as cancelled, hence no DELETE."""

    http_method_names = ["post", "patch"]

    def post(self, request, id):
        invite = self.object(id)

        invite = services.invite_cancel(
            actor=self.acting_user(required=True), invite=invite
        )
        return self.document(self.resource, invite)

    patch = post


class OrgaInviteAccept(OrgaInviteDetail):
    http_method_names = ["patch"]

    def patch(self, request, id):
        invite = self.object(id)
        attributes, _ = jsonapi.submitted(request, "orga_invites", ("user_id",))
        user = self.session_user or self.find(
            resources.USERS,
            selectors.users_for_tenant(self.tenant),
            attributes.get("user_id"),
        )

        services.invite_accept(invite=invite, user=user)
        return self.document(self.resource, self.object(id))


class OrgaInviteDecline(OrgaInviteDetail):
    http_method_names = ["patch"]

    def patch(self, request, id):
        invite = self.object(id)
        attributes, _ = jsonapi.submitted(request, "orga_invites", ("user_id",))
        user = self.session_user
        if user is None and attributes.get("user_id"):
            user = self.find(
                resources.USERS,
                selectors.users_for_tenant(self.tenant),
                attributes["user_id"],
            )

        services.invite_decline(invite=invite, user=user)
        return self.document(self.resource, self.object(id))


# Teams


TEAM_RELATIONSHIPS = ("users", "app_instances")


class TeamRows:
    resource = resources.TEAMS
    queryset = staticmethod(selectors.teams_for_tenant)
    user_queryset = staticmethod(selectors.teams_visible_to)

    def team_relations(self, related):
        """Return the members and app instances the body names (``None``: kept)."""
        found = {}
        if "users" in related:
            found["users"] = self.find_many(
                resources.USERS, self.users_reachable(), related["users"]
            )
        if "app_instances" in related:
            found["app_instances"] = self.find_many(
                resources.APP_INSTANCES,
                self.app_instances_reachable(),
                related["app_instances"],
            )
        return found


class TeamList(TeamRows, ResourceList):
    def post(self, request):
        attributes, related = jsonapi.submitted(
            request,
            "teams",
            ("name", "organization_id"),
            ("organization",),
            to_many=TEAM_RELATIONSHIPS,
        )
        organization = self.find(
            resources.ORGANIZATIONS,
            self.organizations(),
            related.get("organization") or attributes.get("organization_id"),
        )
        if not isinstance(attributes.get("name"), str):
            raise jsonapi.invalid_attribute("name", "A team needs a name.")

        team = services.team_create(
            actor=self.acting_user(required=True),
            organization=organization,
            name=attributes["name"],
            **self.team_relations(related),
        )
        return self.document(self.resource, team, status=201)


class TeamDetail(TeamRows, ResourceDetail):
    def patch(self, request, id):
        team = self.object(id)
        attributes, related = jsonapi.submitted(
            request, "teams", ("name",), to_many=TEAM_RELATIONSHIPS
        )

        services.team_update(
            actor=self.acting_user(required=True),
            team=team,
            name=attributes.get("name"),
            **self.team_relations(related),
        )
        # Read again, so that the members shown are the ones just saved.
        return self.document(self.resource, self.object(id))

    def delete(self, request, id):
        team = self.object(id)

        services.team_delete(actor=self.acting_user(required=True), team=team)
        return Response(status=204)


class TeamRelationship(TeamRows, ResourceDetail):
    """``teams/<id>/relationships/<users|app_instances>``: read or replace the list.

    Only whole replacement (PATCH) is offered; adding or removing one member
    (POST, DELETE) is not, so a frontend sends the full list it wants.
    """

    http_method_names = ["get", "patch"]

    def get(self, request, id, name):
        body = jsonapi.relationship_document(
            self.resource, self.object(id), name, BASE_URL
        )
        return Response(body)

    def patch(self, request, id, name):
        team = self.object(id)
        target = self.resource.relationships[name].type
        ids = jsonapi.submitted_linkage(request, target)

        services.team_update(
            actor=self.acting_user(required=True),
            team=team,
            **self.team_relations({name: ids}),
        )
        return self.get(request, id, name)


# App instances


class AppInstanceProvision(TenantApiView):
    def post(self, request):
        attributes, _ = jsonapi.submitted(
            request, "app_instances", ("app_nid", "owner_id", "owner_type")
        )
        if attributes.get("owner_type", "Organization") != "Organization":
            raise jsonapi.invalid_attribute(
                "owner_type", "Only an Organization owns app instances."
            )
        app = App.objects.filter(nid=str(attributes.get("app_nid"))).first()
        if app is None:
            raise jsonapi.invalid_attribute("app_nid", "No app has this nid.")
        organization = self.find(
            resources.ORGANIZATIONS, self.organizations(), attributes.get("owner_id")
        )

        app_instance = services.app_instance_provision(
            tenant=self.tenant,
            app=app,
            organization=organization,
            actor=self.acting_user(required=False),
        )
        return self.document(resources.APP_INSTANCES, app_instance, status=201)


class AppInstanceTerminate(AppInstanceDetail):
    http_method_names = ["delete"]

    def delete(self, request, id):
        app_instance = services.app_instance_terminate(
            app_instance=self.object(id), actor=self.acting_user(required=False)
        )
        return self.document(self.resource, app_instance)
