"""The session check that apps poll: ``GET /hub/api/v1/auth/saml/<uid>?session=``.

Apps built on the original SDKs ask it every few minutes for each signed-in user,
without credentials, and expect ``{"valid": true|false, "recheck": <ISO 8601>}``:
valid while the person still holds that hub session (logging out of the portal
rotates it), and when to ask again. It is the busiest endpoint of the hub, so it
is a plain Django view over one indexed query, with no DRF in the way.
"""

import json
from datetime import UTC, datetime, timedelta

from django.http import HttpResponse
from django.views.decorators.http import require_GET

from hub import identity

RECHECK_AFTER = timedelta(minutes=3)


def user_uid_of(uid: str) -> str:
    """Return the person's uid from a uid, a virtual uid or a virtual e-mail.

    Apps in virtual mode know a person as ``usr-x.cld-y`` (or that followed by
    ``@…`` as an e-mail): only the part before the first dot names the person.
    """
    return uid.partition(".")[0]


@require_GET
def session_check(request, uid):
    valid = identity.sso_session_current(
        user_uid_of(uid), request.GET.get("session", "")
    )
    recheck = datetime.now(UTC) + RECHECK_AFTER
    body = {"valid": valid, "recheck": recheck.strftime("%Y-%m-%dT%H:%M:%SZ")}
    return HttpResponse(json.dumps(body), content_type="application/json")
