from django.apps import AppConfig


class OidcConfig(AppConfig):
    name = "hub.oidc"
    label = "oidc"
    verbose_name = "OpenID Connect"
