"""Demo data: one tenant, one company, one user and two apps that share invoices."""

from django.db import transaction

from . import services
from .models import App, AppInstance, AppListing, Membership, Organization, Tenant, User

DEFAULT_RECEIVER_URL = "http://127.0.0.1:8765"
DEMO_EMAIL = "demo@maestrano.test"
DEMO_PASSWORD = "demo-password"
DEMO_APPS = {
    "invoicer": "Invoicer",
    "ledger": "Ledger",
}


def _listing(app, tenant, receiver_url):
    fields = {
        "notification_path": "/maestrano/connec/notifications",
        "subscriptions": ["invoices"],
        "enabled": True,
    }
    listing = AppListing.objects.filter(app=app, tenant=tenant).first()
    if listing is None:
        listing, _ = services.app_listing_create(
            app=app, tenant=tenant, host=receiver_url or DEFAULT_RECEIVER_URL, **fields
        )
        return listing

    # The receiver moves only when asked: fetching the credentials again must not
    # send the webhooks back to the default port.
    if receiver_url is not None:
        fields["host"] = receiver_url
    for name, value in fields.items():
        setattr(listing, name, value)
    listing.save(update_fields=list(fields))
    return listing


@transaction.atomic
def demo_load(*, receiver_url: str | None = None) -> dict:
    """Create the demo data if missing (running it again changes nothing else).

    ``receiver_url`` moves both apps' webhooks there; without it they stay where
    they are, or go to ``DEFAULT_RECEIVER_URL`` on the first run.
    """
    tenant, _ = Tenant.objects.get_or_create(
        name="Demo Marketplace", defaults={"domain": "127.0.0.1"}
    )
    user = User.objects.filter(email=DEMO_EMAIL).first()
    if user is None:
        user = User.objects.create_user(
            DEMO_EMAIL, DEMO_PASSWORD, name="Dana", surname="Demo"
        )
    elif not user.check_password(DEMO_PASSWORD):
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])

    organization = Organization.objects.filter(
        tenant=tenant, name="Demo Company"
    ).first()
    if organization is None:
        organization = services.organization_create(
            tenant=tenant, name="Demo Company", owner=user, currency="USD"
        )
    Membership.objects.get_or_create(
        user=user,
        organization=organization,
        defaults={"role": Membership.Role.SUPER_ADMIN},
    )

    apps = {}
    listings = {}
    for nid, name in DEMO_APPS.items():
        app, _ = App.objects.get_or_create(nid=f"demo-{nid}", defaults={"name": name})
        listing = listings[nid] = _listing(app, tenant, receiver_url)
        instance = AppInstance.objects.filter(
            app=app,
            organization=organization,
            status__in=AppInstance.ACTIVE_STATUSES,
        ).first() or services.app_instance_create(app=app, organization=organization)
        apps[nid] = {
            "api_id": listing.api_id,
            "api_key": services.app_listing_api_key(listing=listing),
            "group_id": instance.uid,
            "webhook_secret": listing.webhook_secret,
        }

    return {
        "tenant": tenant.uid,
        "user": {"email": user.email, "password": DEMO_PASSWORD, "uid": user.uid},
        "organization": {"uid": organization.uid},
        "apps": apps,
        # Where the webhooks go now; the two apps share one receiver.
        "receiver_url": listings["ledger"].host,
    }
