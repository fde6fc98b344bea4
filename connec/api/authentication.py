"""HTTP Basic with an app's API id and key, as the original SDKs send it."""

from rest_framework import authentication, exceptions, permissions

from hub import selectors as hub_selectors
from hub.models import AppListing


class AppCredentialsAuthentication(authentication.BasicAuthentication):
    www_authenticate_realm = "connec"

    def authenticate_credentials(self, userid, password, request=None):
        listing = hub_selectors.app_listing_authenticate(userid, password)
        if listing is None:
            raise exceptions.AuthenticationFailed("The API id or key is not valid.")
        return (None, listing)


class IsApp(permissions.BasePermission):
    def has_permission(self, request, view):
        if not isinstance(request.auth, AppListing):
            raise exceptions.NotAuthenticated(
                "Send the app's API id and key with HTTP Basic."
            )
        return True
