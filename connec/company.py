"""The ``company`` collection: one record per organisation, addressed without an id.

Apps read and write it at ``/connec/api/v2/<group_id>/company``, as in the original
API. PUT creates it when it is missing and merges into it otherwise, so an app can
always write its company without asking first; POST only creates, and answers 409
when the company exists. A unique index keeps two concurrent creations from both
succeeding.
"""

from django.db import IntegrityError

from . import errors, services
from .models import Record

COLLECTION = "company"
ONE_COMPANY_CONSTRAINT = "record_one_company_per_organization"


def _second_company(error: IntegrityError) -> bool:
    diagnostics = getattr(error.__cause__, "diag", None)
    return getattr(diagnostics, "constraint_name", None) == ONE_COMPANY_CONSTRAINT


def company_get(*, organization) -> Record | None:
    return Record.objects.filter(
        organization=organization, collection=COLLECTION
    ).first()


def company_create(
    *, app_instance, organization, attributes: dict, group_id: str, user=None
) -> Record:
    """Create the organisation's company, or refuse with 409 if it has one."""
    if company_get(organization=organization) is not None:
        raise errors.company_exists(group_id)
    try:
        return services.record_create(
            app_instance=app_instance,
            organization=organization,
            collection=COLLECTION,
            attributes=attributes,
            user=user,
        )
    except IntegrityError as error:
        if not _second_company(error):
            raise
        # Another writer created it between the check and the insert.
        raise errors.company_exists(group_id) from None


def company_write(
    *, app_instance, organization, attributes: dict, user=None
) -> tuple[Record, bool]:
    """Merge ``attributes`` into the company, creating it if missing.

    Returns the record and whether it was created.
    """
    for _attempt in range(2):
        existing = company_get(organization=organization)
        if existing is not None:
            record = services.record_update(
                app_instance=app_instance,
                record=existing,
                attributes=attributes,
                user=user,
            )
            return record, False
        try:
            record = services.record_create(
                app_instance=app_instance,
                organization=organization,
                collection=COLLECTION,
                attributes=attributes,
                user=user,
            )
        except IntegrityError as error:
            if not _second_company(error):
                raise
            # Another writer created it first: merge into theirs instead.
            continue
        return record, True
    raise errors.company_exists(organization.uid)
