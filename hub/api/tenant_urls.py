from django.urls import re_path

from . import tenant


def _route(path, view, name):
    # Frontends call these paths without a trailing slash; some clients add one.
    return re_path(rf"^{path}/?$", view.as_view(), name=f"tenant-{name}")


ID = r"(?P<id>[^/]+)"

urlpatterns = [
    _route("users/authenticate", tenant.UserAuthenticate, "user-authenticate"),
    _route("users", tenant.UserList, "users"),
    _route(f"users/{ID}", tenant.UserDetail, "user"),
    _route("organizations", tenant.OrganizationList, "organizations"),
    _route(f"organizations/{ID}/freeze", tenant.OrganizationFreeze, "freeze"),
    _route(f"organizations/{ID}/unfreeze", tenant.OrganizationUnfreeze, "unfreeze"),
    _route(
        f"organizations/{ID}/trigger_app_instances_sync",
        tenant.OrganizationAppsSync,
        "apps-sync",
    ),
    _route(f"organizations/{ID}", tenant.OrganizationDetail, "organization"),
    _route("orga_relations", tenant.OrgaRelationList, "orga-relations"),
    _route(f"orga_relations/{ID}", tenant.OrgaRelationDetail, "orga-relation"),
    _route("orga_invites", tenant.OrgaInviteList, "orga-invites"),
    _route(f"orga_invites/{ID}/accept", tenant.OrgaInviteAccept, "invite-accept"),
    _route(f"orga_invites/{ID}/decline", tenant.OrgaInviteDecline, "invite-decline"),
    _route(f"orga_invites/{ID}/send", tenant.OrgaInviteSend, "invite-send"),
    _route(f"orga_invites/{ID}/cancel", tenant.OrgaInviteCancel, "invite-cancel"),
    _route(f"orga_invites/{ID}", tenant.OrgaInviteDetail, "orga-invite"),
    _route("teams", tenant.TeamList, "teams"),
    _route(
        f"teams/{ID}/relationships/(?P<name>users|app_instances)",
        tenant.TeamRelationship,
        "team-relationship",
    ),
    _route(f"teams/{ID}", tenant.TeamDetail, "team"),
    _route("apps", tenant.AppList, "apps"),
    _route(f"apps/{ID}", tenant.AppDetail, "app"),
    _route("app_instances/provision", tenant.AppInstanceProvision, "provision"),
    _route("app_instances", tenant.AppInstanceList, "app-instances"),
    _route(f"app_instances/{ID}/terminate", tenant.AppInstanceTerminate, "terminate"),
    _route(f"app_instances/{ID}", tenant.AppInstanceDetail, "app-instance"),
    _route("bills", tenant.BillList, "bills"),
    _route(f"bills/{ID}", tenant.BillDetail, "bill"),
]
