import pytest
from django.urls import reverse

from connec.models import Delivery, Record
from hub.models import (
    App,
    AppEnvironment,
    AppInstance,
    AppListing,
    Membership,
    Organization,
    Tenant,
)
from hub.tests.factories import (
    AppFactory,
    TenantFactory,
    UserFactory,
    app_listing_create,
)

MODELS = [
    Tenant,
    Organization,
    Membership,
    App,
    AppListing,
    AppEnvironment,
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
            "sso_init_path": "/auth/init",
            "sso_consume_path": "/auth/consume",
            "synchronization_start_path": "/sync/start",
            "synchronization_toggle_path": "",
            "synchronization_status_path": "/sync/status",
            "connec_external_ids": "on",
            "enabled": "on",
        },
        follow=True,
    )

    listing = AppListing.objects.get()
    [message] = [str(m) for m in response.context["messages"] if "API key" in str(m)]
    api_key = message.split(": ", 1)[1].split(" ", 1)[0]
    assert listing.api_key_digest == AppListing.digest(api_key)
    assert listing.subscriptions == ["invoices"]
    assert (
        listing.sso_init_path,
        listing.sso_consume_path,
        listing.synchronization_start_path,
        listing.synchronization_toggle_path,
        listing.synchronization_status_path,
        listing.connec_external_ids,
    ) == ("/auth/init", "/auth/consume", "/sync/start", "", "/sync/status", True)


def test_a_new_listing_has_the_sdk_default_sso_paths(db):
    # when a listing is made without naming its paths
    listing = app_listing_create(AppFactory(), TenantFactory())

    # then the SDKs' default routes are used, and no synchronisation path
    assert listing.sso_init_path == "/maestrano/auth/saml/init"
    assert listing.sso_consume_path == "/maestrano/auth/saml/consume"
    assert listing.synchronization_start_path == ""
    assert listing.connec_external_ids is False


def test_adding_an_environment_in_the_admin_shows_its_secret_once(staff_client):
    # given an app
    app = AppFactory()

    # when staff add its production environment
    response = staff_client.post(
        reverse("admin:hub_appenvironment_add"),
        {"app": app.pk, "name": "production"},
        follow=True,
    )

    # then the secret is shown once, and only its digest is kept
    environment = AppEnvironment.objects.get()
    [message] = [str(m) for m in response.context["messages"] if "Secret" in str(m)]
    secret = message.split(": ", 1)[1].split(" ", 1)[0]
    assert environment.secret_digest == AppEnvironment.digest(secret)
    assert (environment.app, environment.name) == (app, "production")
