"""Django's middleware for people's pages, passed by on the APIs machines call.

Apps, tenants' frontends and services send their credentials with every request
to the paths in ``MACHINE_PATH_PREFIXES`` and never a cookie: a session, the
signed-in person, flashed messages and frame options mean nothing there, yet
building them costs a fifth of a Developer API request. Each class here is
Django's own (so its checks still find it installed) and does its work on every
other path, as before.
"""

from django.conf import settings
from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as messages
from django.contrib.sessions import middleware as sessions
from django.middleware import clickjacking

from hub import middleware as hub


def _pages_only(middleware):
    class PagesOnly(middleware):
        def __init__(self, get_response):
            super().__init__(get_response)
            self.machine_path_prefixes = tuple(settings.MACHINE_PATH_PREFIXES)

        def __call__(self, request):
            if request.path_info.startswith(self.machine_path_prefixes):
                return self.get_response(request)
            return super().__call__(request)

    PagesOnly.__name__ = PagesOnly.__qualname__ = middleware.__name__
    PagesOnly.__doc__ = f"``{middleware.__module__}.{middleware.__name__}``, on pages."
    return PagesOnly


SessionMiddleware = _pages_only(sessions.SessionMiddleware)
AuthenticationMiddleware = _pages_only(auth.AuthenticationMiddleware)
ImpersonationMiddleware = _pages_only(hub.ImpersonationMiddleware)
MessageMiddleware = _pages_only(messages.MessageMiddleware)
XFrameOptionsMiddleware = _pages_only(clickjacking.XFrameOptionsMiddleware)
