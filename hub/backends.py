"""Password login for every Django page (portal, admin) with the hub's lockout."""

from django.contrib.auth.backends import ModelBackend

from . import services
from .errors import HubError
from .models import User


class LockoutBackend(ModelBackend):
    """Django's e-mail and password login, refused while the account is locked.

    Repeated failures lock the account (see ``hub.services.user_login_attempt``), so
    guessing a password through the login page stops after a few tries.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None

        # E-mail addresses are unique across customer bases for now, so the
        # address alone tells which base to look in.
        known = User.objects.filter(email__iexact=username.strip()).first()
        try:
            user = services.user_login_attempt(
                customer_base=known.customer_base if known else None,
                email=username,
                password=password,
            )
        except HubError:
            return None
        return user if self.user_can_authenticate(user) else None
