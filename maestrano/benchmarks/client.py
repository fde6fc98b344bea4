"""The HTTP client the benchmarks drive the server with.

The client shares the machine with the server it measures, so it must cost
little: the standard library's ``http.client`` on one keep-alive connection
spends about a quarter of the CPU per request that ``requests`` does, which on
two cores lets a bare WSGI app answer four times as many requests.
"""

import base64
import http.client
import json
import time
from urllib.parse import urlsplit


class Answer:
    def __init__(self, status: int, body: bytes):
        self.status = status
        self.body = body

    def json(self):
        return json.loads(self.body)

    def text(self, limit: int = 300) -> str:
        return self.body[:limit].decode(errors="replace")


# A web server may drop a keep-alive connection that was idle (gunicorn, for one,
# after a second); a client idle for longer (one that waited for the others at
# the start line, or after a slow request) opens a new one rather than send into
# a closed socket.
IDLE_RECONNECT_SECONDS = 0.5


class KeepAliveClient:
    """One persistent connection to ``base_url``, optionally with HTTP Basic."""

    def __init__(self, base_url: str, *, username: str | None = None, password=""):
        parts = urlsplit(base_url)
        self.prefix = parts.path.rstrip("/")
        self.connection = http.client.HTTPConnection(
            parts.hostname, parts.port, timeout=30
        )
        self.headers = {}
        if username is not None:
            token = base64.b64encode(f"{username}:{password}".encode()).decode()
            self.headers["Authorization"] = f"Basic {token}"
        self.answered_at = time.monotonic()

    def get(self, path: str) -> Answer:
        return self._send("GET", path, None, self.headers)

    def post_json(self, path: str, payload) -> Answer:
        headers = {**self.headers, "Content-Type": "application/json"}
        return self._send("POST", path, json.dumps(payload).encode(), headers)

    def _send(self, method, path, body, headers):
        if time.monotonic() - self.answered_at > IDLE_RECONNECT_SECONDS:
            self.connection.close()
        self.connection.request(method, self.prefix + path, body=body, headers=headers)
        response = self.connection.getresponse()
        answer = Answer(response.status, response.read())
        self.answered_at = time.monotonic()
        return answer

    def close(self):
        self.connection.close()
