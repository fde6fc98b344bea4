"""Settings of the OAuth 2.0 / OpenID Connect provider (django-oauth-toolkit).

Production takes the RSA signing key from the environment. Developers' machines and
test runs keep one under ``var/`` (never committed), made on first use.
"""

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

# Lifetimes, in seconds. Access tokens are short because apps are expected to
# refresh them; a refresh token lives as long as its family is used.
ACCESS_TOKEN_LIFETIME = 3600
ID_TOKEN_LIFETIME = 3600
AUTHORIZATION_CODE_LIFETIME = 60


def new_signing_key() -> str:
    """Return the PEM of a new RSA signing key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def signing_key_from_file(var_dir: Path) -> str:
    """Return the PEM of the local signing key, making it on first use."""
    path = var_dir / "oidc" / "signing-key.pem"
    if path.exists():
        return path.read_text()

    pem = new_signing_key()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written aside then renamed: test runs started together may race to make it,
    # and a reader must never see half a key.
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(pem)
    partial.chmod(0o600)
    partial.replace(path)
    return pem


def issuer_for(platform_url: str) -> str:
    """Return the issuer under the platform's public address; empty if it has none."""
    return platform_url.rstrip("/") + "/o" if platform_url else ""


def _check_rsa_private_key(pem: str) -> None:
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except ValueError as error:
        raise ValueError("OIDC_RSA_PRIVATE_KEY is not a PEM private key") from error
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(
            "OIDC_RSA_PRIVATE_KEY must be an RSA key (ID tokens are RS256)"
        )


def oauth2_provider_settings(
    *, private_key: str, issuer: str = "", redirect_schemes=("https",)
) -> dict:
    """Return ``OAUTH2_PROVIDER`` for one environment.

    ``issuer`` is the public address of ``/o`` (empty: the address each request
    came in on). ``redirect_schemes`` lists the schemes an app may register as
    redirect URIs; plain http belongs on developers' machines only.
    """
    _check_rsa_private_key(private_key)

    return {
        "OAUTH2_VALIDATOR_CLASS": "hub.oidc.validators.HubOAuth2Validator",
        "OIDC_ENABLED": True,
        "OIDC_RSA_PRIVATE_KEY": private_key,
        "OIDC_ISS_ENDPOINT": issuer,
        "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
        "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
        # Logging out of one app ends the hub session, which every app checks.
        "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
        "OIDC_RP_INITIATED_LOGOUT_STRICT_REDIRECT_URIS": True,
        "SCOPES": {
            "openid": "Sign you in",
            "profile": "Your name, language and time zone",
            "email": "Your e-mail address",
            "group": "The company you open the app for, and your role in it",
            "introspection": "Check tokens issued by the platform",
        },
        "DEFAULT_SCOPES": ["openid"],
        "SCOPES_BACKEND_CLASS": "hub.oidc.scopes.ClientScopes",
        "PKCE_REQUIRED": True,
        "ROTATE_REFRESH_TOKEN": True,
        # A refresh token presented twice means it leaked: the whole family goes.
        "REFRESH_TOKEN_REUSE_PROTECTION": True,
        "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
        "ACCESS_TOKEN_EXPIRE_SECONDS": ACCESS_TOKEN_LIFETIME,
        "ID_TOKEN_EXPIRE_SECONDS": ID_TOKEN_LIFETIME,
        "AUTHORIZATION_CODE_EXPIRE_SECONDS": AUTHORIZATION_CODE_LIFETIME,
        "ALLOWED_REDIRECT_URI_SCHEMES": list(redirect_schemes),
        "ALLOW_URI_WILDCARDS": False,
        "OAUTH2_GRANT_TYPES_SUPPORTED": [
            "authorization_code",
            "client_credentials",
            "refresh_token",
        ],
        "OAUTH2_RESPONSE_TYPES_SUPPORTED": ["code"],
        # RFC 9700 (OAuth 2.0 Security Best Current Practice), every gate enforced:
        # no implicit or password grant, S256 only, bearer tokens never in a query
        # string, ``iss`` on authorisation responses, tokens kept only as digests.
        "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
        "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
        "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
        "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
        "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
        "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
        "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
        "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
        "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": "http" not in redirect_schemes,
        "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    }
