"""The platform's rules, plugged into django-oauth-toolkit's request validator.

The company chosen at authorisation travels with the grant and every token that
descends from it; claims are the platform's (``hub.oidc.claims``); only clients
that the platform knows, of enabled listings, are served.
"""

import datetime
import logging

from django.utils import timezone
from oauth2_provider.models import AccessToken, Grant
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.settings import oauth2_settings
from oauthlib.oauth2.rfc6749 import errors

from . import claims, selectors
from .models import AccessTokenAppInstance, GrantAppInstance

logger = logging.getLogger(__name__)


class HubOAuth2Validator(OAuth2Validator):
    oidc_claim_scope = claims.CLAIM_SCOPES

    def _load_application(self, client_id, request):
        application = super()._load_application(client_id, request)
        if application is None:
            return None
        client = selectors.oauth_client_of(application)
        if client is None or (
            client.listing is not None and not client.listing.enabled
        ):
            request.client = None
            return None
        return application

    def validate_user(self, username, password, client, request, *args, **kwargs):
        # oauthlib checks the password before it checks that the client may use
        # the password grant. Unless refused here first, any app's credentials
        # would test people's passwords, and lock them out by failing.
        if not client.allows_grant_type(client.GRANT_PASSWORD):
            return False
        return super().validate_user(
            username, password, client, request, *args, **kwargs
        )

    # prompt=none. The toolkit leaves these to the project, and a request with
    # prompt=none fails with a server error without them.

    def validate_silent_login(self, request):
        # Only signed-in people reach validation (the view requires a login, and
        # answers login_required itself to anyone else).
        return True

    def validate_silent_authorization(self, request):
        return bool(getattr(request.client, "skip_authorization", False))

    # Authorisation code: the view puts the chosen app instance on the request.

    def _create_authorization_code(self, request, code, expires=None):
        # The grant keeps the nonce for the ID token; a longer one would not fit.
        if len(request.nonce or "") > Grant._meta.get_field("nonce").max_length:
            raise errors.InvalidRequestError(
                description="The nonce is too long.", request=request
            )
        grant = super()._create_authorization_code(request, code, expires)
        app_instance = getattr(request, "app_instance", None)
        if app_instance is not None:
            GrantAppInstance.objects.create(grant=grant, app_instance=app_instance)
        return grant

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        if not super().validate_code(client_id, code, client, request, *args, **kwargs):
            return False
        binding = (
            GrantAppInstance.objects.select_related("app_instance__organization")
            .filter(grant__code=code, grant__application=client)
            .first()
        )
        request.app_instance = binding.app_instance if binding else None
        return True

    # Refresh: the new tokens keep the old ones' app instance, if the person
    # may still open it.

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        if not super().validate_refresh_token(
            refresh_token, client, request, *args, **kwargs
        ):
            return False
        if not request.user.is_active:
            return False

        access_token = request.refresh_token_instance.access_token
        app_instance = selectors.app_instance_of(access_token)
        listing = selectors.oauth_client_of(client).listing
        if app_instance is not None and not selectors.app_instance_may_sign_in(
            request.user, app_instance, listing
        ):
            logger.info(
                "refresh refused user=%s group=%s: no longer allowed",
                request.user.uid,
                app_instance.uid,
            )
            return False
        request.app_instance = app_instance
        return True

    def _create_access_token(self, expires, request, token, source_refresh_token=None):
        access_token = super()._create_access_token(
            expires, request, token, source_refresh_token
        )
        app_instance = getattr(request, "app_instance", None)
        if app_instance is not None:
            AccessTokenAppInstance.objects.create(
                access_token=access_token, app_instance=app_instance
            )
        return access_token

    # Claims, in ID tokens and in the userinfo answer.

    def get_additional_claims(self, request):
        return claims.sign_in_claims(
            request.user, self._app_instance(request), at=timezone.now()
        )

    def get_discovery_claims(self, request):
        return list(claims.CLAIM_SCOPES)

    # An ID token lives exactly ID_TOKEN_EXPIRE_SECONDS from its "iat": oauthlib
    # takes "iat" and django-oauth-toolkit its own clock for "exp" a moment
    # later, and the two can fall on either side of a second.

    def finalize_id_token(self, id_token, token, token_handler, request):
        request.id_token_issued_at = id_token.get("iat")
        return super().finalize_id_token(id_token, token, token_handler, request)

    def get_id_token_dictionary(self, token, token_handler, request):
        found, expires_at = super().get_id_token_dictionary(
            token, token_handler, request
        )
        issued_at = getattr(request, "id_token_issued_at", None)
        if issued_at is not None:
            found["exp"] = issued_at + oauth2_settings.ID_TOKEN_EXPIRE_SECONDS
            expires_at = datetime.datetime.fromtimestamp(found["exp"], datetime.UTC)
        return found, expires_at

    def _app_instance(self, request):
        if getattr(request, "app_instance", None) is not None:
            return request.app_instance
        # The userinfo endpoint knows only the access token it was given.
        access_token = getattr(request, "access_token", None)
        if isinstance(access_token, AccessToken):
            return selectors.app_instance_of(access_token)
        return None
