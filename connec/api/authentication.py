"""Who may call Connec!: whoever the hub's identity authority recognises.

Apps send their API id and key with HTTP Basic; people send their hub session (as
the Basic username with an empty password, or as ``sso_session=`` in the query)
or an OAuth access token (``Authorization: Bearer``). See ``hub.identity``.
"""

from hub.api.identity_auth import IdentityAuthentication, IsIdentified

__all__ = ["ConnecAuthentication", "IsIdentified"]


class ConnecAuthentication(IdentityAuthentication):
    """App credentials, a person's session or an OAuth access token."""
