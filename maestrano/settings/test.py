"""Settings for the test suite: real PostgreSQL and Redis, eager Celery by default.

Tests that need a real worker start one themselves (see ``maestrano/testing.py``).
"""

import os

from maestrano import embedded

from . import oidc
from .base import *  # noqa: F403
from .base import VAR_DIR, database_settings, env, logging_settings

SECRET_KEY = "test-only-not-a-secret"
DATABASES = database_settings(
    env.str("DATABASE_URL", default="") or embedded.database_url(VAR_DIR)
)
DATABASES["default"]["CONN_MAX_AGE"] = 0
# Separate names let several test runs share one embedded server.
DATABASES["default"]["TEST"] = {
    "NAME": env.str("TEST_DATABASE_NAME", default="test_maestrano")
}
CELERY_BROKER_URL = env.str("REDIS_URL", default="") or embedded.redis_url(VAR_DIR)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = True
# A queue of its own per test run, so that no other worker takes its tasks; the
# worker a test starts is told the same name.
CELERY_TASK_DEFAULT_QUEUE = env.str(
    "CELERY_TASK_DEFAULT_QUEUE", default=f"tests-{os.getpid()}"
)

# connec_query's million records would take minutes to load in every test run.
BENCHMARK_CONNEC_QUERY_RECORDS = 2000
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
WEBHOOK_TIMEOUT_SECONDS = 5.0
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

LOGGING = logging_settings("text", "WARNING")

# Static files come straight from the apps; no collectstatic needed.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# OpenID Connect: a key of this machine under var/, never committed.
OAUTH2_PROVIDER = oidc.oauth2_provider_settings(
    private_key=oidc.signing_key_from_file(VAR_DIR)
)
