"""Stable error codes of single sign-on, with the message a person reads."""

from maestrano.errors import ApiError

# code: (HTTP status, title, detail). Details may name ``{placeholders}``.
ERRORS = {
    "saml_request_missing": (
        400,
        "No sign-in request",
        "The link that brought you here carries no SAMLRequest. "
        "Open the app again from your dashboard.",
    ),
    "saml_request_undecodable": (
        400,
        "Unreadable sign-in request",
        "The SAMLRequest is not deflated, base64-encoded data.",
    ),
    "saml_request_malformed": (
        400,
        "Invalid sign-in request",
        "The SAMLRequest is not a SAML 2.0 AuthnRequest with an ID and an Issuer.",
    ),
    "saml_unknown_issuer": (
        400,
        "Unknown app",
        "No app is enabled on this platform with the id {issuer}.",
    ),
    "saml_acs_not_allowed": (
        400,
        "Unexpected return address",
        "{app} asked for the answer at {acs_url}, which is not one of its "
        "addresses; nothing was sent.",
    ),
}


class SsoError(ApiError):
    """A sign-in request the identity provider refuses, built from ``ERRORS``."""

    def __init__(self, code, **params):
        status, title, detail = ERRORS[code]
        super().__init__(status, code, title, detail.format(**params))
