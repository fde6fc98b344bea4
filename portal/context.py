"""What every portal page is given besides its own content."""


def impersonation(request) -> dict:
    """Tell the page whether a staff member is acting as the signed-in customer."""
    impersonator = getattr(request, "impersonator", None)
    return {"impersonator": impersonator, "impersonating": impersonator is not None}
