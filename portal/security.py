"""Signing in safely: the two-step login, password reset and the second factor.

A person whose second factor is on passes the password step, then the code
step; only then are they signed in. Between the two, the session holds who
passed the first step, for ``PENDING_LOGIN_SECONDS`` and ``MAX_CODE_ATTEMPTS``
wrong codes at most, after which the password is asked again.
"""

import time
from base64 import b32encode

import segno
from django.conf import settings
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django_otp import login as otp_login

from hub import services as hub_services
from hub import two_factor
from hub.errors import HubError

from . import context
from .forms import OneTimeCodeForm

PENDING_LOGIN = "portal_pending_login"
PENDING_LOGIN_SECONDS = 5 * 60
MAX_CODE_ATTEMPTS = 5


def _render(request, template_name, page, status=200):
    page = {**context.impersonation(request), **page}
    return render(request, template_name, page, status=status)


def _safe_next(request, url):
    """Return ``url`` if it stays on this site, else the default landing page."""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return resolve_url(settings.LOGIN_REDIRECT_URL)


class LoginView(auth_views.LoginView):
    """Django's login, which checks ``next`` for open redirects, plus a code step."""

    template_name = "portal/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if not two_factor.totp_enabled(user):
            return super().form_valid(form)

        # A new session key: whatever the page knew before the password step
        # must not carry over to the half-signed-in session.
        self.request.session.cycle_key()
        self.request.session[PENDING_LOGIN] = {
            "user": user.pk,
            "backend": user.backend,
            "since": time.time(),
            "attempts": 0,
            "next": self.get_redirect_url(),
        }
        return redirect("portal:login_verify")


def _pending_login(request):
    pending = request.session.get(PENDING_LOGIN)
    if not pending or time.time() - pending["since"] > PENDING_LOGIN_SECONDS:
        return None, None
    return pending, two_factor.user_awaiting_second_factor(pending["user"])


@sensitive_post_parameters("code")
@never_cache
def login_verify(request):
    """Ask for the code of the person who passed the password step."""
    pending, user = _pending_login(request)
    if user is None:
        request.session.pop(PENDING_LOGIN, None)
        return redirect("portal:login")

    form = OneTimeCodeForm(request.POST or None)
    if request.method != "POST" or not form.is_valid():
        return _render(request, "portal/login_verify.html", {"form": form})

    device = two_factor.totp_check(user=user, token=form.cleaned_data["code"])
    if device is not None:
        del request.session[PENDING_LOGIN]
        auth_login(request, user, backend=pending["backend"])
        otp_login(request, device)
        return redirect(_safe_next(request, pending["next"]))

    pending["attempts"] += 1
    if pending["attempts"] >= MAX_CODE_ATTEMPTS:
        del request.session[PENDING_LOGIN]
        return redirect("portal:login")
    request.session[PENDING_LOGIN] = pending
    form.add_error("code", HubError("invalid_otp").detail)
    return _render(request, "portal/login_verify.html", {"form": form}, status=400)


@method_decorator(never_cache, name="dispatch")
class PasswordResetView(auth_views.PasswordResetView):
    template_name = "portal/password_reset_form.html"
    email_template_name = "portal/password_reset_email.txt"
    subject_template_name = "portal/password_reset_subject.txt"
    success_url = reverse_lazy("portal:password_reset_done")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "portal/password_reset_confirm.html"
    success_url = reverse_lazy("portal:password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        hub_services.user_password_reset_complete(user=form.user)
        return response


def _qr_svg(device):
    # The SVG is drawn by segno from the otpauth address alone: no text of
    # ours goes into it, so it can be put in the page as it is.
    return mark_safe(segno.make(device.config_url, error="m").svg_inline(scale=4))


def _two_factor_page(request, error=None, status=200):
    user = request.user
    enrolment = two_factor.totp_enrolment(user)
    page = {
        "enabled": two_factor.totp_enabled(user),
        "enrolment": enrolment,
        "form": OneTimeCodeForm(),
        "error": error,
    }
    if enrolment is not None:
        page["qr_svg"] = _qr_svg(enrolment)
        page["secret"] = b32encode(enrolment.bin_key).decode()
    return _render(request, "portal/two_factor.html", page, status=status)


CODE_ACTIONS = {
    "confirm": two_factor.totp_enrolment_confirm,
    "disable": two_factor.totp_disable,
}


@sensitive_post_parameters("code")
@never_cache
@login_required
def two_factor_settings(request):
    """Show the second factor's state; turn it on (two steps) or off."""
    if request.method != "POST":
        return _two_factor_page(request)
    # The second factor is the customer's own, never the staff member's acting
    # as them.
    if request.impersonator is not None:
        raise PermissionDenied("Staff cannot change a customer's second factor.")

    action = request.POST.get("action")
    form = OneTimeCodeForm(request.POST)
    try:
        if action == "start":
            two_factor.totp_enrolment_start(user=request.user)
        elif action in CODE_ACTIONS and form.is_valid():
            service = CODE_ACTIONS[action]
            service(user=request.user, token=form.cleaned_data["code"])
        elif action in CODE_ACTIONS:
            raise HubError("invalid_otp")
        else:
            return _two_factor_page(request, error="Unknown action.", status=400)
    except HubError as refusal:
        return _two_factor_page(request, error=refusal.detail, status=refusal.status)
    return redirect("portal:two_factor")
