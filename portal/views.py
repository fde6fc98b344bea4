"""Pages of the customer portal: each view reads through a selector and renders."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from connec import transactions
from hub import selectors as hub_selectors
from hub import services as hub_services
from hub import staff as hub_staff
from hub.errors import HubError
from hub.models import AccessRequest

from . import context, selectors


def _render(request, template_name, page=None, status=200):
    page = {**context.impersonation(request), **(page or {})}
    return render(request, template_name, page, status=status)


@login_required
def home(request):
    organizations = list(hub_selectors.organizations_for_user(request.user))
    if len(organizations) == 1:
        return redirect("portal:organization", uid=organizations[0].uid)

    return _render(request, "portal/home.html", {"organizations": organizations})


@login_required
def organization_detail(request, uid):
    # Not a member and no such organisation look the same, so uids cannot be probed.
    organization = hub_selectors.organization_for_user(request.user, uid)
    if organization is None:
        raise Http404("No such organisation among yours.")

    overview = selectors.organization_overview(
        organization=organization, now=timezone.now()
    )
    launchable = hub_selectors.app_instances_launchable(request.user, organization)
    overview["launchable"] = set(launchable.values_list("uid", flat=True))
    overview["pending_count"] = transactions.pending_count(organization)
    return _render(request, "portal/organization.html", overview)


@login_required
def access_requests(request, error=None, status=200):
    pending = selectors.access_requests_pending(user=request.user)
    return _render(
        request,
        "portal/access_requests.html",
        {"access_requests": pending, "error": error},
        status=status,
    )


@require_POST
@login_required
def access_request_answer(request, pk, answer):
    # Consent is the customer's alone, never the staff member acting as them.
    if request.impersonator is not None:
        raise PermissionDenied("Staff cannot answer access requests for a customer.")
    access_request = get_object_or_404(AccessRequest, pk=pk, user=request.user)

    service = {
        "approve": hub_staff.access_request_approve,
        "deny": hub_staff.access_request_deny,
    }[answer]
    try:
        service(access_request=access_request, user=request.user)
    except HubError as refusal:
        return access_requests(request, error=refusal.detail, status=refusal.status)
    return redirect("portal:access_requests")


@require_POST
@login_required
def impersonation_stop(request):
    target = request.user if request.impersonator is not None else None

    hub_staff.session_impersonation_end(request)

    if target is None:
        return redirect("admin:index")
    return redirect(reverse("admin:hub_user_change", args=[target.pk]))


class LogoutView(auth_views.LogoutView):
    """Sign out, and end the hub session that apps check, on every device."""

    def post(self, request, *args, **kwargs):
        # A staff member acting as a customer signs themselves out, not the
        # customer: the customer's sessions in their apps must survive.
        if getattr(request, "impersonator", None) is not None:
            request.user = request.impersonator
            hub_staff.session_impersonation_end(request)
        if request.user.is_authenticated:
            hub_services.user_sso_session_rotate(user=request.user)
        return super().post(request, *args, **kwargs)
