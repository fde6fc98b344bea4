"""Who may do what to an organisation: the hub's permission matrix in one table.

It follows the original platform's rules (reference §2.17): reads and syncs are
open to every member, administration to Admins and Super Admins, and the company's
own settings, billing and deletion to Super Admins only. Launching an app instance
also depends on teams; that rule is the selector ``app_instances_launchable``.
"""

from .errors import HubError
from .models import Membership

Role = Membership.Role

EVERY_MEMBER = frozenset(Role)
ADMINS = frozenset({Role.ADMIN, Role.SUPER_ADMIN})
SUPER_ADMINS = frozenset({Role.SUPER_ADMIN})

# Action on an organisation -> the roles allowed to take it.
MATRIX = {
    "read": EVERY_MEMBER,
    "sync_apps": EVERY_MEMBER,
    "check_apps_sync": EVERY_MEMBER,
    "upload": ADMINS,
    "purchase": ADMINS,
    "invite_member": ADMINS,
    "administrate": ADMINS,
    "manage_app_instances": ADMINS,
    "manage_teams": ADMINS,
    "update": SUPER_ADMINS,
    "destroy": SUPER_ADMINS,
    "manage_billing": SUPER_ADMINS,
}

# Actions platform staff may take in any organisation of their customer base (all
# of them for staff outside every base), whatever their membership.
STAFF_ACTIONS = frozenset({"manage_app_instances"})


def permitted(user, action, organization=None) -> bool:
    """Tell whether ``user`` may take ``action`` on ``organization``.

    ``create`` (a new organisation) needs no organisation: any active person may.
    An unknown action raises ``KeyError`` rather than quietly answering no.
    """
    if action != "create" and action not in MATRIX:
        raise KeyError(f"unknown action {action!r}")
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if action == "create":
        return True

    base_id = user.customer_base_id
    if base_id is not None and base_id != organization.customer_base_id:
        return False
    if user.is_staff and action in STAFF_ACTIONS:
        return True

    membership = Membership.objects.filter(user=user, organization=organization)
    role = membership.values_list("role", flat=True).first()
    return role in MATRIX[action]


def permission_require(user, action, organization) -> None:
    """Raise ``HubError("forbidden")`` unless ``user`` may take ``action``."""
    if not permitted(user, action, organization):
        raise HubError(
            "forbidden",
            organization=organization.name,
            action=action.replace("_", " "),
        )
