from django.apps import AppConfig


class ImpacConfig(AppConfig):
    name = "impac"
    verbose_name = "Impac!"

    def ready(self):
        from .engines import engines_load

        engines_load()
