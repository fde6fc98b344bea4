from django.apps import AppConfig


class ImpacConfig(AppConfig):
    name = "impac"
    verbose_name = "Impac!"
