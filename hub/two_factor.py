"""The optional second sign-in factor: time-based one-time codes (RFC 6238).

django-otp keeps the secrets (``TOTPDevice``), checks the codes, refuses a code
used once already, and slows down guessing: after each wrong code the device
refuses any code for 1, 2, 4… seconds. A person has at most one device; it counts
once they have confirmed it with a first code.
"""

import logging

from django_otp import match_token, verify_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from .audit import audit_record
from .errors import HubError
from .models import User

logger = logging.getLogger(__name__)

DEVICE_NAME = "Authenticator app"


def totp_device(user: User) -> TOTPDevice | None:
    """Return the person's confirmed device, if the second factor is on."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def totp_enabled(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def totp_enrolment(user: User) -> TOTPDevice | None:
    """Return the device shown for enrolment but not confirmed yet, if any."""
    return TOTPDevice.objects.filter(user=user, confirmed=False).first()


def totp_enrolment_start(*, user: User) -> TOTPDevice:
    """Give the person a new secret to add to their app; it counts once confirmed."""
    if totp_enabled(user):
        raise HubError("otp_already_enabled")

    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def totp_enrolment_confirm(*, user: User, token: str) -> TOTPDevice:
    """Turn the second factor on, once the person's app gives a right code."""
    device = totp_enrolment(user)
    # Not in a transaction of ours: a wrong code must stay counted, and
    # django-otp locks the device while it checks.
    if device is None or verify_token(user, device.persistent_id, token) is None:
        raise HubError("invalid_otp")

    device.refresh_from_db()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    audit_record(actor=user, action="two_factor.enable", target=user)
    logger.info("two-factor enabled user=%s", user.uid)
    return device


def totp_check(*, user: User, token: str) -> TOTPDevice | None:
    """Return the person's device if ``token`` is its current code, else ``None``."""
    return match_token(user, token)


def totp_disable(*, user: User, token: str) -> None:
    """Turn the second factor off; a current code proves the person holds it."""
    device = totp_device(user)
    if device is None:
        return
    if verify_token(user, device.persistent_id, token) is None:
        raise HubError("invalid_otp")

    TOTPDevice.objects.filter(user=user).delete()
    audit_record(actor=user, action="two_factor.disable", target=user)
    logger.info("two-factor disabled user=%s", user.uid)


def user_awaiting_second_factor(user_id) -> User | None:
    """Return the active person who passed the password step, by their id."""
    return User.objects.filter(pk=user_id, is_active=True).first()
