"""Request middleware of the hub."""

from . import staff

ADMIN_PREFIX = "/admin/"


class ImpersonationMiddleware:
    """Let a staff member act as the customer who consented, for this session.

    ``request.user`` becomes the customer and ``request.impersonator`` the staff
    member; the impersonation ends by itself once the consent has lapsed. The admin
    stays the staff member's own, so staff can keep working there meanwhile. It
    must run after Django's ``AuthenticationMiddleware``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.impersonator = None
        # The session is checked first so that ordinary requests cost no query.
        if staff.SESSION_IMPERSONATED in request.session and not (
            request.path.startswith(ADMIN_PREFIX)
        ):
            target = staff.session_impersonated_user(request)
            if target is not None:
                request.impersonator = request.user
                request.user = target
        return self.get_response(request)
