"""Settings for a developer's machine: embedded services when no URLs are given."""

from maestrano import embedded

from . import oidc
from .base import *  # noqa: F403
from .base import VAR_DIR, database_settings, env, logging_settings

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="development-only-not-a-secret")

DATABASES = database_settings(
    env.str("DATABASE_URL", default="") or embedded.database_url(VAR_DIR)
)
CELERY_BROKER_URL = env.str("REDIS_URL", default="") or embedded.redis_url(VAR_DIR)

# Apps on a developer's machine listen on loopback.
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

LOGGING = logging_settings(env.str("LOG_FORMAT", default="text"), "INFO")

# Static files come straight from the apps; no collectstatic needed.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# OpenID Connect: a key of this machine under var/ unless one is given; apps on a
# developer's machine may redirect to plain http.
OAUTH2_PROVIDER = oidc.oauth2_provider_settings(
    private_key=env.str("OIDC_RSA_PRIVATE_KEY", multiline=True, default="")
    or oidc.signing_key_from_file(VAR_DIR),
    issuer=env.str("OIDC_ISSUER", default=""),
    redirect_schemes=("http", "https"),
)
