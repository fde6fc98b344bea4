"""Pages of the customer portal: each view reads through a selector and renders."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone

from hub import selectors as hub_selectors
from hub import services as hub_services

from . import selectors


@login_required
def home(request):
    organizations = list(hub_selectors.organizations_for_user(request.user))
    if len(organizations) == 1:
        return redirect("portal:organization", uid=organizations[0].uid)

    return render(request, "portal/home.html", {"organizations": organizations})


@login_required
def organization_detail(request, uid):
    # Not a member and no such organisation look the same, so uids cannot be probed.
    organization = hub_selectors.organization_for_user(request.user, uid)
    if organization is None:
        raise Http404("No such organisation among yours.")

    overview = selectors.organization_overview(
        organization=organization, now=timezone.now()
    )
    return render(request, "portal/organization.html", overview)


class LogoutView(auth_views.LogoutView):
    """Sign out, and end the hub session that apps check, on every device."""

    def post(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            hub_services.user_sso_session_rotate(user=request.user)
        return super().post(request, *args, **kwargs)
