"""Which scopes each kind of client may ask for."""

from oauth2_provider.scopes import SettingsScopes

APP_SCOPES = ["openid", "profile", "email", "group"]
APP_DEFAULT_SCOPES = ["openid"]
SERVICE_SCOPES = ["introspection"]


class ClientScopes(SettingsScopes):
    """Sign-in scopes for apps, introspection for services; nothing else."""

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        if application is None:
            return super().get_available_scopes(application, request, *args, **kwargs)
        return SERVICE_SCOPES if _is_service(application) else APP_SCOPES

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        if application is None:
            return super().get_default_scopes(application, request, *args, **kwargs)
        return SERVICE_SCOPES if _is_service(application) else APP_DEFAULT_SCOPES


def _is_service(application) -> bool:
    return application.authorization_grant_type == application.GRANT_CLIENT_CREDENTIALS
