"""Reads of bills and recurring bills, always through the app that submitted them."""

from hub.models import AppListing, Membership

from .models import Bill, RecurringBill


def bills_for_listing(listing: AppListing, *, group_id: str | None = None):
    """Return the bills of every instance of the listing's app on its tenant."""
    bills = Bill.objects.select_related("app_instance").filter(
        app_instance__app_id=listing.app_id,
        app_instance__organization__tenant_id=listing.tenant_id,
    )
    if group_id is not None:
        bills = bills.filter(app_instance__uid=group_id)
    return bills.order_by("created_at", "id")


def bill_for_listing(listing: AppListing, uid: str) -> Bill | None:
    return bills_for_listing(listing).filter(uid=uid).first()


def recurring_bills_for_listing(listing: AppListing, *, group_id: str | None = None):
    """Return the recurring bills of every instance of the listing's app."""
    recurring_bills = RecurringBill.objects.select_related("app_instance").filter(
        app_instance__app_id=listing.app_id,
        app_instance__organization__tenant_id=listing.tenant_id,
    )
    if group_id is not None:
        recurring_bills = recurring_bills.filter(app_instance__uid=group_id)
    return recurring_bills.order_by("created_at", "id")


def recurring_bill_for_listing(listing: AppListing, uid: str) -> RecurringBill | None:
    return recurring_bills_for_listing(listing).filter(uid=uid).first()


def bills_visible_to(user):
    """Return the bills of the organisations where the person manages billing."""
    return Bill.objects.select_related("app_instance").filter(
        app_instance__organization__memberships__user=user,
        app_instance__organization__memberships__role=Membership.Role.SUPER_ADMIN,
    )


def bills_for_tenant(tenant):
    """Return the bills of every organisation in the tenant's customer base."""
    return Bill.objects.select_related("app_instance").filter(
        app_instance__organization__customer_base_id=tenant.customer_base_id
    )
