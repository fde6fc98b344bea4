"""The configuration API (``/hub/api/config/v1/``) that app SDKs start from.

An app environment's key and secret fetch, for every marketplace offering the
app, what the SDK needs there: the app's own routes, its API credentials, and
where this platform's hub and Connec! answer.
"""

from django.conf import settings
from rest_framework.response import Response
from rest_framework.views import APIView

from hub import selectors, services
from hub.sso import services as sso_services
from maestrano.errors import api_exception_handler

from .authentication import AppEnvironmentAuthentication, IsAppEnvironment

CONNEC_TIMEOUT_SECONDS = 180


def platform_url(request):
    """Return this platform's public base URL, without a trailing slash."""
    configured = getattr(settings, "PLATFORM_URL", "")
    return (configured or request.build_absolute_uri("/")).rstrip("/")


def marketplace_json(listing, environment, base_url):
    account_paths = {
        "group_path": listing.groups_path,
        "groups_path": listing.groups_path,
        "group_user_path": listing.group_users_path,
        "group_users_path": listing.group_users_path,
    }
    connec_paths = {
        "external_ids": listing.connec_external_ids,
        # Limitation: listings have no Connec! initialisation route yet; SDKs
        # read an empty path as "no initial import".
        "initialization_path": "",
        "notification_path": listing.notification_path,
    }
    # The SDKs disagree on the key's spelling, so both are sent.
    webhooks = {"account": account_paths, "connec": connec_paths}
    # Apps pin this certificate's fingerprint to check the hub's SAML signatures.
    signing_key = sso_services.signing_key_ensure(tenant=listing.tenant)
    return {
        "marketplace": listing.tenant.uid,
        "nid": listing.tenant.domain or listing.tenant.uid,
        "environment": environment.name,
        "app": {
            "host": listing.host,
            "synchronization_start_path": listing.synchronization_start_path,
            "synchronization_toggle_path": listing.synchronization_toggle_path,
            "synchronization_status_path": listing.synchronization_status_path,
        },
        "api": {
            "id": listing.api_id,
            "key": services.app_listing_api_key(listing=listing),
            "host": f"{base_url}/hub",
            "base": "/api/v1/",
        },
        "sso": {
            "idm": listing.host,
            "init_path": listing.sso_init_path,
            "consume_path": listing.sso_consume_path,
            "idp": f"{base_url}/hub",
            "x509_fingerprint": signing_key.fingerprint_sha1,
            "x509_certificate": signing_key.certificate_pem,
        },
        "connec": {
            "host": f"{base_url}/connec",
            "base_path": "/api",
            "timeout": CONNEC_TIMEOUT_SECONDS,
        },
        "webhook": webhooks,
        "webhooks": webhooks,
    }


class MarketplaceList(APIView):
    authentication_classes = [AppEnvironmentAuthentication]
    permission_classes = [IsAppEnvironment]

    def get_exception_handler(self):
        return api_exception_handler

    def get(self, request):
        environment = request.auth
        base_url = platform_url(request)

        listings = selectors.app_listings_for_environment(environment)
        marketplaces = [
            marketplace_json(listing, environment, base_url) for listing in listings
        ]
        return Response({"marketplaces": marketplaces})
