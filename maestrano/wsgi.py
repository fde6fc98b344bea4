"""WSGI entry point for the web server (granian)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "maestrano.settings.development")

application = get_wsgi_application()
