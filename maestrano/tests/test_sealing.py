import os
import subprocess
import sys

import pytest
from cryptography.fernet import InvalidToken

from maestrano.sealing import unseal
from maestrano.settings import oidc

SEAL_A_KEY = (
    "import django; django.setup(); "
    "from maestrano.sealing import seal; print(seal('app-api-key'))"
)
PRODUCTION = {
    "SECRET_KEY": "production-secret-key",
    "ALLOWED_HOSTS": "maestrano.example",
    "DATABASE_URL": "postgres://app:secret@db.internal:5432/maestrano",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "OIDC_RSA_PRIVATE_KEY": oidc.new_signing_key(),
}


def sealed_in_production(**env):
    environment = {
        key: value
        for key, value in os.environ.items()
        if key != "CREDENTIALS_SEALING_KEY"
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="maestrano.settings.production", **PRODUCTION, **env
    )
    finished = subprocess.run(
        [sys.executable, "-c", SEAL_A_KEY],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return finished.stdout.strip()


def test_the_sealing_key_is_read_from_the_environment(settings):
    token = sealed_in_production(CREDENTIALS_SEALING_KEY="a-sealing-key")

    settings.SECRET_KEY = PRODUCTION["SECRET_KEY"]
    settings.CREDENTIALS_SEALING_KEY = ""
    with pytest.raises(InvalidToken):
        unseal(token)
    settings.CREDENTIALS_SEALING_KEY = "a-sealing-key"
    assert unseal(token) == "app-api-key"


def test_without_a_sealing_key_the_secret_key_seals(settings):
    token = sealed_in_production()

    settings.SECRET_KEY = PRODUCTION["SECRET_KEY"]
    settings.CREDENTIALS_SEALING_KEY = ""
    assert unseal(token) == "app-api-key"
