"""Settings for production: everything comes from the environment, nothing embedded."""

from . import oidc
from .base import *  # noqa: F403
from .base import database_settings, env, logging_settings

SECRET_KEY = env.str("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
DATABASES = database_settings(env.str("DATABASE_URL"))
CELERY_BROKER_URL = env.str("REDIS_URL")

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Outbound webhooks may only reach public addresses unless the operator says otherwise.
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env.bool(
    "WEBHOOK_ALLOW_PRIVATE_ADDRESSES", default=False
)

LOGGING = logging_settings(
    env.str("LOG_FORMAT", default="json"), env.str("LOG_LEVEL", default="INFO")
)

# OpenID Connect: the signing key must come from the environment. The issuer is
# the platform's public address unless given on its own.
OAUTH2_PROVIDER = oidc.oauth2_provider_settings(
    private_key=env.str("OIDC_RSA_PRIVATE_KEY", multiline=True),
    issuer=env.str("OIDC_ISSUER", default="")
    or oidc.issuer_for(env.str("PLATFORM_URL", default="")),
)
