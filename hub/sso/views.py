"""Browser endpoints of single sign-on: the SAML identity provider and app logout.

These pages are for people, even under ``/hub/api/``: they say ``browser_page``
so that the platform's JSON error pages leave them as they are.
"""

import logging

from django.conf import settings
from django.contrib import auth
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from hub import services as hub_services
from hub import staff as hub_staff
from hub.api.config import platform_url
from hub.models import Tenant

from . import saml, selectors, services
from .errors import SsoError

logger = logging.getLogger(__name__)

# The SAML binding lets an SP pass state through; longer values are not echoed.
MAX_RELAY_STATE = 2048


def _page(request, template_name, page, status=200):
    response = render(request, template_name, page, status=status)
    response.browser_page = True
    return response


def _identity_provider(request, tenant):
    base_url = platform_url(request)
    return {
        "entity_id": base_url
        + reverse("hub:sso:saml-metadata", kwargs={"tenant_uid": tenant.uid}),
        "sso_url": base_url + reverse("hub:sso:saml"),
    }


@never_cache
@require_GET
def saml_sign_on(request):
    """Answer an app's AuthnRequest (HTTP-Redirect) with a signed assertion."""
    try:
        authn_request = saml.authn_request_decode(request.GET.get("SAMLRequest"))
        listing = selectors.app_listing_for_issuer(authn_request.issuer)
        if listing is None:
            raise SsoError("saml_unknown_issuer", issuer=authn_request.issuer)
        acs_url = selectors.assertion_consumer_url(listing, authn_request.acs_url)
    except SsoError as refusal:
        logger.info("saml request refused code=%s", refusal.code)
        return _page(request, "sso/refusal.html", {"error": refusal}, refusal.status)

    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())

    app_instances = selectors.app_instances_for_sign_on(request.user, listing)
    if not app_instances:
        logger.info(
            "saml sign-on unauthorised user=%s app=%s",
            request.user.uid,
            listing.api_id,
        )
        return _page(request, "sso/unauthorized.html", {"app": listing.app}, 403)

    app_instance = _chosen(app_instances, request.GET.get("group_id"))
    if app_instance is None:
        return _chooser(request, listing, app_instances)

    saml_response = services.saml_response_issue(
        listing=listing,
        request=authn_request,
        acs_url=acs_url,
        user=request.user,
        app_instance=app_instance,
        app_instances=app_instances,
        idp_entity_id=_identity_provider(request, listing.tenant)["entity_id"],
    )
    relay_state = request.GET.get("RelayState", "")
    page = {
        "acs_url": acs_url,
        "saml_response": saml_response,
        "relay_state": relay_state if len(relay_state) <= MAX_RELAY_STATE else "",
        "app": listing.app,
    }
    return _page(request, "sso/post_form.html", page)


def _chosen(app_instances, group_id):
    if len(app_instances) == 1:
        return app_instances[0]
    return next((i for i in app_instances if i.uid == group_id), None)


def _chooser(request, listing, app_instances):
    choices = []
    for app_instance in app_instances:
        # The same request again, with the company chosen.
        query = request.GET.copy()
        query["group_id"] = app_instance.uid
        choices.append(
            {
                "app_instance": app_instance,
                "url": f"{request.path}?{query.urlencode()}",
            }
        )
    return _page(request, "sso/chooser.html", {"app": listing.app, "choices": choices})


@require_GET
def saml_metadata(request, tenant_uid):
    """Publish a tenant's identity provider: entity id, certificate, SSO URL."""
    tenant = get_object_or_404(Tenant, uid=tenant_uid)

    signing_key = services.signing_key_ensure(tenant=tenant)
    document = saml.metadata_xml(
        **_identity_provider(request, tenant),
        certificate_pem=signing_key.certificate_pem,
    )
    return HttpResponse(document, content_type="application/samlmetadata+xml")


@never_cache
@require_GET
def app_logout(request):
    """Sign out of the hub after logging out of an app, then offer the login page.

    Only the person the app names (``user_uid``, real or virtual) is signed out,
    so a link planted elsewhere cannot end someone else's session.
    """
    user_uid = request.GET.get("user_uid", "").partition(".")[0]
    if request.user.is_authenticated and user_uid == request.user.uid:
        if getattr(request, "impersonator", None) is not None:
            # Staff acting as a customer sign themselves out; the customer's
            # own sessions in their apps must survive.
            request.user = request.impersonator
            hub_staff.session_impersonation_end(request)
        else:
            hub_services.user_sso_session_rotate(user=request.user)
        auth.logout(request)
    return redirect(settings.LOGIN_URL)


@require_GET
def app_access_unauthorized(request):
    """Tell a person an app refused them, or they may not use it."""
    # maestrano-rails sends ``err=internal`` when the app itself failed.
    failed = request.GET.get("err") == "internal"
    return _page(request, "sso/unauthorized.html", {"app_failed": failed}, 403)
