import pytest
from django.urls import reverse

from connec.models import Delivery, Record
from hub.models import App, AppInstance, AppListing, Membership, Organization, Tenant
from hub.tests.factories import AppFactory, TenantFactory, UserFactory

MODELS = [
    Tenant,
    Organization,
    Membership,
    App,
    AppListing,
    AppInstance,
    Record,
    Delivery,
]


@pytest.fixture
def staff_client(client, db):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    return client


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_every_core_model_has_an_admin_list(staff_client, organization, model):
    meta = model._meta

    response = staff_client.get(
        reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
    )

    assert response.status_code == 200


def test_adding_a_listing_in_the_admin_shows_its_key_once(staff_client):
    app, tenant = AppFactory(), TenantFactory()

    response = staff_client.post(
        reverse("admin:hub_applisting_add"),
        {
            "app": app.pk,
            "tenant": tenant.pk,
            "host": "https://app.example.test",
            "notification_path": "/maestrano/connec/notifications",
            "groups_path": "/maestrano/account/groups",
            "group_users_path": "/maestrano/account/groups/:group_id/users",
            "subscriptions": '["invoices"]',
            "enabled": "on",
        },
        follow=True,
    )

    listing = AppListing.objects.get()
    [message] = [str(m) for m in response.context["messages"] if "API key" in str(m)]
    api_key = message.split(": ", 1)[1].split(" ", 1)[0]
    assert listing.api_key_digest == AppListing.digest(api_key)
    assert listing.subscriptions == ["invoices"]
