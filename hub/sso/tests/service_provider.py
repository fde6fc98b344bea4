"""Apps as the identity provider meets them: a real SAML SP, and the SDKs' requests.

``ServiceProvider`` is python3-saml (OneLogin's toolkit over libxmlsec1), so the
responses are checked by code that is not ours: signature, fingerprint pinning,
schema, audience, recipient, destination and timing.
"""

import base64
import zlib
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import lxml.html
from onelogin.saml2.auth import OneLogin_Saml2_Auth

SSO_PATH = "/hub/api/v1/auth/saml"
IDP_SSO_URL = f"http://testserver{SSO_PATH}"
INIT_PATH = "/maestrano/auth/saml/init"
CONSUME_PATH = "/maestrano/auth/saml/consume"
POST_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
REDIRECT_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"


def idp_entity_id(tenant):
    return f"http://testserver/hub/api/v1/auth/saml/metadata/{tenant.uid}"


@dataclass
class ServiceProvider:
    """One app's SAML settings, as its SDK configuration would give them."""

    entity_id: str
    host: str
    idp_entity_id: str
    fingerprint: str = ""
    certificate: str = ""
    consume_path: str = CONSUME_PATH

    @property
    def acs_url(self):
        return self.host + self.consume_path

    def settings(self):
        idp = {
            "entityId": self.idp_entity_id,
            "singleSignOnService": {"url": IDP_SSO_URL, "binding": REDIRECT_BINDING},
        }
        if self.certificate:
            idp["x509cert"] = self.certificate
        else:
            idp["certFingerprint"] = self.fingerprint
            idp["certFingerprintAlgorithm"] = "sha1"
        return {
            "strict": True,
            "sp": {
                "entityId": self.entity_id,
                "assertionConsumerService": {
                    "url": self.acs_url,
                    "binding": POST_BINDING,
                },
                "NameIDFormat": PERSISTENT,
            },
            "idp": idp,
            "security": {
                "wantAssertionsSigned": True,
                "wantAttributeStatement": True,
                "requestedAuthnContext": False,
                "rejectDeprecatedAlgorithm": True,
                # Django's test client calls the identity provider "testserver".
                "allowSingleLabelDomains": True,
            },
        }

    def login(self, **params):
        """Return the IdP URL the app sends the browser to, and the request's ID.

        ``params`` are the query parameters the SDKs copy onto it (``group_id``).
        """
        auth = OneLogin_Saml2_Auth(self._request_data(INIT_PATH), self.settings())
        url = auth.login()
        if params:
            url = f"{url}&{urlencode(params)}"
        return url, auth.get_last_request_id()

    def consume(self, page, request_id, *, at_path=None):
        """Post the page's SAMLResponse to this app, and let python3-saml judge it."""
        form = posted_form(page)
        post_data = {"SAMLResponse": form["SAMLResponse"]}
        path = at_path or urlsplit(form["action"]).path
        auth = OneLogin_Saml2_Auth(self._request_data(path, post_data), self.settings())
        auth.process_response(request_id=request_id)
        return auth

    def _request_data(self, path, post_data=None):
        host = urlsplit(self.host)
        return {
            "https": "on" if host.scheme == "https" else "off",
            "http_host": host.netloc,
            "script_name": path,
            "get_data": {},
            "post_data": post_data or {},
        }


def posted_form(page):
    """Return the action and fields of the auto-submitting form of a page."""
    form = lxml.html.fromstring(page.content).forms[0]
    return {"action": form.action, "method": form.method, **dict(form.fields)}


def response_xml(page):
    return base64.b64decode(posted_form(page)["SAMLResponse"])


def sdk_request_xml(*, issuer, acs_url=None, request_id="_4a1e6f0c"):
    """Return an AuthnRequest laid out as the Ruby SDK's REXML writes one."""
    acs = f' AssertionConsumerServiceURL="{acs_url}"' if acs_url else ""
    return (
        '<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"'
        f' ID="{request_id}" IssueInstant="2017-11-02T10:00:00Z" Version="2.0"'
        f' Destination="{IDP_SSO_URL}"{acs}>'
        '<saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">'
        f"{issuer}</saml:Issuer>"
        '<samlp:NameIDPolicy xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"'
        f' AllowCreate="true" Format="{PERSISTENT}"/>'
        "</samlp:AuthnRequest>"
    )


def redirect_encode(document: str | bytes) -> str:
    """Deflate (raw) and base64 a request, wrapped at 60 like Ruby's encode64."""
    if isinstance(document, str):
        document = document.encode()
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    deflated = compressor.compress(document) + compressor.flush()
    encoded = base64.b64encode(deflated).decode()
    return "\n".join(encoded[i : i + 60] for i in range(0, len(encoded), 60)) + "\n"


def sdk_request_url(document, **params):
    return (
        f"{SSO_PATH}?{urlencode({'SAMLRequest': redirect_encode(document), **params})}"
    )
