"""Browser endpoints of the hub: where the portal and tenant frontends send people."""

from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_GET

from maestrano.errors import error_response

from . import launch as launches
from .errors import HubError

# Whoever arrives with a launch token is signed in as if by password, but without
# the password login's rotation of their hub session: that session is the one
# their frontend holds, and rotating it would sign them out there.
LAUNCH_LOGIN_BACKEND = "hub.backends.LockoutBackend"


@require_GET
@login_required
def launch(request, uid):
    """Send the signed-in person to the app instance's SSO start, or say why not."""
    try:
        url = launches.launch_url(user=request.user, app_instance_uid=uid)
    except HubError as refusal:
        return render(
            request,
            "hub/launch_refused.html",
            {"refusal": refusal},
            status=refusal.status,
        )
    return HttpResponseRedirect(url)


@require_GET
def launch_with_token(request, uid):
    """Sign in the person a tenant's launch token vouches for, then launch.

    Every check runs before anything is written: a refused token is not used up,
    and nobody is signed in.
    """
    try:
        token = launches.launch_token_verify(request.GET.get("wtk", ""))
        url = launches.launch_url(user=token.user, app_instance_uid=uid)
        launches.launch_token_consume(token)
    except HubError as refusal:
        return error_response(refusal)

    login(request, token.user, backend=LAUNCH_LOGIN_BACKEND)
    return HttpResponseRedirect(url)
