"""HTTP Basic with an app's API id and key, as the original SDKs send it."""

from rest_framework import authentication, exceptions, permissions

from hub import selectors
from hub.models import AppListing, Tenant


class AppCredentialsAuthentication(authentication.BasicAuthentication):
    www_authenticate_realm = "maestrano"

    def authenticate_credentials(self, userid, password, request=None):
        listing = selectors.app_listing_authenticate(userid, password)
        if listing is None:
            raise exceptions.AuthenticationFailed("The API id or key is not valid.")
        return (None, listing)


class IsApp(permissions.BasePermission):
    """Let in requests authenticated as an app, and CORS pre-flights.

    Browsers send pre-flight requests without credentials, so they cannot be
    refused for lacking them.
    """

    def has_permission(self, request, view):
        if request.method == "OPTIONS":
            return True
        if not isinstance(request.auth, AppListing):
            raise exceptions.NotAuthenticated(
                "Send the app's API id and key with HTTP Basic."
            )
        return True


class TenantCredentialsAuthentication(authentication.BasicAuthentication):
    """HTTP Basic with a tenant's id and key, as a marketplace frontend sends it."""

    www_authenticate_realm = "maestrano"

    def authenticate_credentials(self, userid, password, request=None):
        tenant = selectors.tenant_authenticate(userid, password)
        if tenant is None:
            raise exceptions.AuthenticationFailed("The tenant id or key is not valid.")
        return (None, tenant)


class IsTenant(permissions.BasePermission):
    def has_permission(self, request, view):
        if not isinstance(request.auth, Tenant):
            raise exceptions.NotAuthenticated(
                "Send the tenant's id and key with HTTP Basic."
            )
        return True
