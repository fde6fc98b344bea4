from django.apps import AppConfig


class ConnecConfig(AppConfig):
    name = "connec"
    verbose_name = "Connec!"

    def ready(self):
        from . import history  # noqa: F401  (connects the history context receiver)
