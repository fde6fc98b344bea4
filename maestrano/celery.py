"""The Celery application shared by web processes, workers and beat."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "maestrano.settings.development")

app = Celery("maestrano")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
