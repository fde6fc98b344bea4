"""The HTTP leg of a webhook: where it may go, and the request itself.

The destination's name is resolved once. Unless ``WEBHOOK_ALLOW_PRIVATE_ADDRESSES``
is on, every address it resolves to must be public, and the connection is then made
to the very address that was checked, while TLS still checks the certificate against
the name. A name that answers a public address to the check and a private one to
the connection (DNS rebinding) therefore never reaches the private one.

Limitation: requests go straight out; an egress proxy (``HTTPS_PROXY``) is not
used, since the pinned address could not be enforced through it.
"""

import ipaddress
import socket
from functools import lru_cache
from urllib.parse import urlsplit

import requests
from django.utils.http import parse_http_date_safe
from requests.adapters import HTTPAdapter

# What is kept of a request or an answer body in the delivery log.
BODY_LOG_LIMIT = 64 * 1024


class DestinationRefused(Exception):
    """The destination may not be called at all; retrying will not help."""


def _public(ip):
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global


def destination_address(url: str, *, allow_private: bool) -> str:
    """Resolve ``url``'s host once; return the address to connect to."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise DestinationRefused(f"{url!r} is not an http(s) address")

    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        answers = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except socket.gaierror as failure:
        # A name that does not resolve now may resolve later: retried, not refused.
        raise requests.ConnectionError(
            f"{parts.hostname} does not resolve: {failure}"
        ) from failure
    addresses = [ipaddress.ip_address(answer[4][0].split("%")[0]) for answer in answers]
    if not allow_private:
        for ip in addresses:
            if not _public(ip):
                raise DestinationRefused(
                    f"{parts.hostname} resolves to {ip}, a private or local address"
                )
    return str(addresses[0])


class _PinnedAdapter(HTTPAdapter):
    """Connects to one resolved address whatever the URL's host resolves to later."""

    def __init__(self, address):
        self.address = address
        super().__init__(pool_connections=1, pool_maxsize=4)

    def get_connection_with_tls_context(self, request, verify, proxies=None, cert=None):
        host_params, pool_kwargs = self.build_connection_pool_key_attributes(
            request, verify, cert
        )
        if host_params["scheme"] == "https":
            name = host_params["host"]
            pool_kwargs = {**pool_kwargs, "server_hostname": name}
            pool_kwargs["assert_hostname"] = name
        return self.poolmanager.connection_from_host(
            host=self.address,
            port=host_params["port"],
            scheme=host_params["scheme"],
            pool_kwargs=pool_kwargs,
        )


@lru_cache(maxsize=128)
def _session(address):
    # One session per address keeps connections alive between deliveries, which
    # is most of a worker's speed towards a busy app.
    session = requests.Session()
    # Proxies from the environment would connect somewhere else than the address
    # that was checked.
    session.trust_env = False
    adapter = _PinnedAdapter(address)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def post(url, *, body: bytes, headers: dict, auth, timeout: float, allow_private):
    """POST ``body`` to ``url``; return ``(status, headers, body excerpt)``."""
    address = destination_address(url, allow_private=allow_private)
    host = urlsplit(url).netloc.rpartition("@")[2]
    response = _session(address).post(
        url,
        data=body,
        headers={**headers, "Host": host},
        auth=auth,
        timeout=timeout,
        allow_redirects=False,
        stream=True,
    )
    try:
        excerpt = response.raw.read(BODY_LOG_LIMIT, decode_content=True)
    except BaseException:
        response.close()
        raise
    if len(excerpt) < BODY_LOG_LIMIT:
        # The whole answer was read: the connection may carry the next request.
        response.raw.release_conn()
    else:
        response.close()
    text = excerpt.decode(response.encoding or "utf-8", errors="replace")
    return response.status_code, dict(response.headers), text


def retry_after_seconds(value: str | None, *, now: float) -> float | None:
    """Read a ``Retry-After`` header (seconds or an HTTP date) as seconds from now."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    when = parse_http_date_safe(value)
    if when is None:
        return None
    return max(0.0, when - now)
