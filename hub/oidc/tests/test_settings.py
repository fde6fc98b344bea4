"""The provider's settings: the signing key is checked, and made only where allowed."""

import stat

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from maestrano.settings import oidc


def test_a_local_signing_key_is_made_once_and_kept_private(tmp_path):
    first = oidc.signing_key_from_file(tmp_path)
    second = oidc.signing_key_from_file(tmp_path)

    path = tmp_path / "oidc" / "signing-key.pem"
    assert first == second
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert oidc.oauth2_provider_settings(private_key=first)["OIDC_ENABLED"] is True


@pytest.mark.parametrize("private_key", ["", "not a key"])
def test_a_missing_or_unreadable_key_is_refused(private_key):
    with pytest.raises(ValueError, match="is not a PEM private key"):
        oidc.oauth2_provider_settings(private_key=private_key)


def test_a_key_that_is_not_rsa_is_refused():
    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )

    with pytest.raises(ValueError, match="must be an RSA key"):
        oidc.oauth2_provider_settings(private_key=pem)


def test_the_issuer_follows_the_platform_address():
    assert oidc.issuer_for("https://hub.example.com/") == "https://hub.example.com/o"
    assert oidc.issuer_for("") == ""


def test_plain_http_redirects_are_for_development_only(tmp_path):
    key = oidc.signing_key_from_file(tmp_path)

    production = oidc.oauth2_provider_settings(private_key=key)
    development = oidc.oauth2_provider_settings(
        private_key=key, redirect_schemes=("http", "https")
    )

    assert production["ALLOWED_REDIRECT_URI_SCHEMES"] == ["https"]
    assert development["ALLOWED_REDIRECT_URI_SCHEMES"] == ["http", "https"]
