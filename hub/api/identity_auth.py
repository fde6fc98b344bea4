"""DRF authentication through the identity authority (``hub.identity``).

Connec! and Impac! use these classes and no other: ``request.auth`` is then a
``Principal`` and ``request.user`` its person, if any. Accepted, in this order:

- ``Authorization: Bearer <OAuth access token>``;
- ``Authorization: Basic`` with an app's API id and key, or a person's
  ``sso_session`` as the username and an empty password;
- an ``sso_session`` query parameter, as the original Connec! UI sends it.
"""

from rest_framework import authentication, exceptions, permissions

from hub import identity
from hub.identity import Kind

REALM = "maestrano"

_REFUSALS = {
    Kind.APP: "The API id or key is not valid.",
    Kind.TENANT: "The tenant id or key is not valid.",
    Kind.USER: "The session is not valid.",
}


class IdentityAuthentication(authentication.BasicAuthentication):
    """App credentials, a person's session or an OAuth bearer token."""

    www_authenticate_realm = REALM
    # The credentials a view accepts; subclasses may narrow or widen them.
    kinds = frozenset({Kind.APP, Kind.USER, Kind.OAUTH})

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if header and header[0].lower() == b"bearer" and Kind.OAUTH in self.kinds:
            return self._bearer(header)
        if header and header[0].lower() == b"basic":
            return super().authenticate(request)

        sso_session = request.query_params.get("sso_session")
        if sso_session is not None and Kind.USER in self.kinds:
            return self._principal(
                identity.principal_for_sso_session(sso_session), Kind.USER
            )
        return None

    def authenticate_credentials(self, userid, password, request=None):
        principal = identity.principal_for_basic(userid, password, kinds=self.kinds)
        if password == "":
            refused = Kind.USER
        elif userid.startswith("tnt-") and Kind.TENANT in self.kinds:
            refused = Kind.TENANT
        else:
            refused = Kind.APP
        return self._principal(principal, refused)

    def _bearer(self, header):
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the access token as Authorization: Bearer <token>."
            )
        try:
            token = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(
                "The access token is not valid."
            ) from None
        principal = identity.principal_for_access_token(token)
        if principal is None:
            raise exceptions.AuthenticationFailed(
                "The access token is not valid or has expired."
            )
        return (principal.user, principal)

    @staticmethod
    def _principal(principal, kind):
        if principal is None:
            raise exceptions.AuthenticationFailed(_REFUSALS[kind])
        return (principal.user, principal)

    def authenticate_header(self, request):
        return f'Basic realm="{self.www_authenticate_realm}"'


class PortalSessionAuthentication(authentication.SessionAuthentication):
    """The portal's signed-in person, as a principal; CSRF-checked like any session."""

    def authenticate(self, request):
        found = super().authenticate(request)
        if found is None:
            return None
        principal = identity.principal_for_user(found[0])
        return (principal.user, principal) if principal else None


class IsIdentified(permissions.BasePermission):
    """Let in requests whose credentials became a principal."""

    message = "Send an app's API id and key, a session or an access token."

    def has_permission(self, request, view):
        if not isinstance(request.auth, identity.Principal):
            raise exceptions.NotAuthenticated(self.message)
        return True
