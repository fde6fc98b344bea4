from django.apps import AppConfig


class SsoConfig(AppConfig):
    name = "hub.sso"
    label = "sso"
    verbose_name = "Single sign-on"
