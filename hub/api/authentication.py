"""HTTP Basic as the original clients send it to the tenant API: tenant and per-user
credentials (the Developer API reads app credentials itself: hub.api.developer)."""

from dataclasses import dataclass

from rest_framework import authentication, exceptions, permissions

from hub import selectors
from hub.models import AppEnvironment, Tenant, User


@dataclass(frozen=True)
class UserSession:
    """A Tenant API request made as one person, on the marketplace they use."""

    user: User
    tenant: Tenant


class TenantCredentialsAuthentication(authentication.BasicAuthentication):
    """HTTP Basic as a marketplace frontend sends it.

    The tenant's id and key act as the tenant. A person's ``sso_session`` as the
    username with an empty password acts as that person.
    """

    www_authenticate_realm = "maestrano"

    def authenticate_credentials(self, userid, password, request=None):
        if password == "":
            return self._user_session(userid)

        tenant = selectors.tenant_authenticate(userid, password)
        if tenant is None:
            raise exceptions.AuthenticationFailed("The tenant id or key is not valid.")
        return (None, tenant)

    def _user_session(self, sso_session):
        user = selectors.user_for_sso_session(sso_session)
        tenant = selectors.tenant_for_user(user) if user else None
        if tenant is None:
            raise exceptions.AuthenticationFailed("The session is not valid.")
        return (user, UserSession(user=user, tenant=tenant))


class IsTenant(permissions.BasePermission):
    def has_permission(self, request, view):
        if not isinstance(request.auth, Tenant | UserSession):
            raise exceptions.NotAuthenticated(
                "Send the tenant's id and key, or a person's session, with HTTP Basic."
            )
        return True


class AppEnvironmentAuthentication(authentication.BasicAuthentication):
    """HTTP Basic with an app environment's key and secret, as the SDKs send it."""

    www_authenticate_realm = "maestrano"

    def authenticate_credentials(self, userid, password, request=None):
        environment = selectors.app_environment_authenticate(userid, password)
        if environment is None:
            raise exceptions.AuthenticationFailed(
                "The environment key or secret is not valid."
            )
        return (None, environment)


class IsAppEnvironment(permissions.BasePermission):
    def has_permission(self, request, view):
        if not isinstance(request.auth, AppEnvironment):
            raise exceptions.NotAuthenticated(
                "Send the app environment's key and secret with HTTP Basic."
            )
        return True
