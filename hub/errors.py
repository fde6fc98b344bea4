"""Stable error codes of the hub, with the message a person reads."""

from maestrano.errors import ApiError

# code: (HTTP status, title, detail). Details may name ``{placeholders}``.
ERRORS = {
    "forbidden": (
        403,
        "Not allowed",
        "Your role in {organization} does not allow you to {action}.",
    ),
    "super_admin_reserved": (
        403,
        "Reserved to Super Admins",
        "Only a Super Admin may grant the Super Admin role or change a Super Admin.",
    ),
    "last_super_admin": (
        409,
        "Last Super Admin",
        "{organization} needs at least one Super Admin; appoint another one first.",
    ),
    "other_customer_base": (
        403,
        "Other customer base",
        "This person and this organisation belong to different customer bases.",
    ),
    "already_member": (
        409,
        "Already a member",
        "{email} is already a member of {organization}.",
    ),
    "not_a_member": (
        400,
        "Not a member",
        "{email} is not a member of {organization}.",
    ),
    "foreign_app_instance": (
        400,
        "App instance of another organisation",
        "{app_instance} does not belong to {organization}.",
    ),
    "email_taken": (
        422,
        "E-mail address taken",
        "{email} already has an account.",
    ),
    "not_your_profile": (
        403,
        "Not your profile",
        "A person may change only their own profile.",
    ),
    "accept_url_off_domain": (
        400,
        "Accept link elsewhere",
        "The accept link must lead to {domain}, the marketplace's own address.",
    ),
    "invalid_otp": (
        400,
        "Wrong code",
        "The code is wrong or no longer valid; enter the one your app shows now.",
    ),
    "otp_already_enabled": (
        409,
        "Two-factor already on",
        "Two-factor sign-in is already on; turn it off first to enrol again.",
    ),
    "invalid_credentials": (
        401,
        "Invalid credentials",
        "The e-mail address or the password is wrong.",
    ),
    "account_locked": (
        423,
        "Account locked",
        "Too many failed logins; try again after {locked_until}.",
    ),
    "invite_not_staged": (
        409,
        "Invite already sent",
        "Only a staged invite can be sent; this one is {status}.",
    ),
    "invite_not_open": (
        409,
        "Invite closed",
        "This invite is {status} and can no longer be answered or cancelled.",
    ),
    "invite_expired": (
        410,
        "Invite expired",
        "This invite expired; ask for a new one.",
    ),
    "invalid_accept_url": (
        400,
        "Invalid accept link",
        "The accept link must contain {{token}} where the invite's token goes.",
    ),
    "not_platform_staff": (
        403,
        "Staff only",
        "Only platform staff may ask for access to a customer's account.",
    ),
    "staff_not_impersonable": (
        403,
        "Staff account",
        "Platform staff cannot be impersonated.",
    ),
    "access_request_not_open": (
        409,
        "Access request answered",
        "This access request is {status} and can no longer be answered.",
    ),
    "access_request_not_yours": (
        403,
        "Not your access request",
        "Only the person whose account is concerned may answer this request.",
    ),
    "impersonation_not_approved": (
        403,
        "No consent",
        "{email} has not approved access in the last 24 hours.",
    ),
    "app_not_offered": (
        422,
        "App not offered",
        "{app} is not offered on this marketplace.",
    ),
    "app_instance_terminated": (
        409,
        "App instance terminated",
        "{app_instance} is already {status}.",
    ),
    "launch_forbidden": (
        403,
        "Launch not allowed",
        "You may not launch {app_instance}: it is not one of the apps your role "
        "and teams give you.",
    ),
    "app_not_launchable": (
        409,
        "App without sign-in address",
        "{app} has no sign-in address on this marketplace yet.",
    ),
    "launch_token_invalid": (
        401,
        "Invalid launch token",
        "The launch token was refused: {reason}.",
    ),
    "launch_token_expired": (
        401,
        "Launch token expired",
        "The launch token is older than {seconds} seconds; ask the frontend for "
        "a new one.",
    ),
    "launch_token_replayed": (
        401,
        "Launch token already used",
        "Each launch token works once; ask the frontend for a new one.",
    ),
    "launch_key_unavailable": (
        409,
        "Tenant key to reissue",
        "The key of {tenant} was issued before launch tokens were checked; issue "
        "it a new key to sign them with.",
    ),
}


class HubError(ApiError):
    """A refusal of the hub, built from its code in ``ERRORS``."""

    def __init__(self, code, **params):
        status, title, detail = ERRORS[code]
        super().__init__(status, code, title, detail.format(**params))
