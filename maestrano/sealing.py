"""Reversible encryption for the few secrets the platform must send back out.

An app's API key is checked by its digest, but webhooks authenticate to the app with
that same key (the original SDKs compare Basic credentials with their configured key),
so a sealed copy is kept too. The sealing key derives from ``SECRET_KEY`` unless
``CREDENTIALS_SEALING_KEY`` is set; rotating it makes sealed copies unreadable, after
which keys must be regenerated.
"""

import base64
import hashlib

from cryptography.fernet import Fernet
from django.conf import settings


def _fernet():
    secret = getattr(settings, "CREDENTIALS_SEALING_KEY", "") or settings.SECRET_KEY
    key = base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest())
    return Fernet(key)


def seal(text):
    return _fernet().encrypt(text.encode()).decode()


def unseal(token):
    return _fernet().decrypt(token.encode()).decode()
