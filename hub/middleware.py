"""Request middleware of the hub."""

from . import staff


class ImpersonationMiddleware:
    """Let a staff member act as the customer who consented, for this session.

    ``request.user`` becomes the customer and ``request.impersonator`` the staff
    member; the impersonation ends by itself once the consent has lapsed. It must
    run after Django's ``AuthenticationMiddleware``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.impersonator = None
        # The session is checked first so that ordinary requests cost no query.
        if staff.SESSION_IMPERSONATED in request.session:
            target = staff.session_impersonated_user(request)
            if target is not None:
                request.impersonator = request.user
                request.user = target
        return self.get_response(request)
