import pytest
from django.urls import reverse

from hub.models import AuditEvent, User
from hub.tests.factories import (
    AppFactory,
    TenantFactory,
    UserFactory,
    app_listing_create,
)


@pytest.fixture
def admin_user(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def run_action(client, model_name, action, obj):
    return client.post(
        reverse(f"admin:hub_{model_name}_changelist"),
        {"action": action, "_selected_action": [obj.pk]},
    )


def audit_trail():
    return list(
        AuditEvent.objects.values_list("actor", "action", "target_type", "target_id")
    )


def test_rotating_a_tenant_key_is_audited(admin_client, admin_user):
    tenant = TenantFactory()

    run_action(admin_client, "tenant", "rotate_tenant_key", tenant)

    assert audit_trail() == [
        (admin_user.pk, "tenant.key_rotate", "hub.Tenant", str(tenant.pk))
    ]


def test_rotating_an_api_key_is_audited_without_the_key(admin_client, admin_user):
    listing = app_listing_create(AppFactory(), TenantFactory())

    run_action(admin_client, "applisting", "rotate_api_key", listing)

    assert audit_trail() == [
        (admin_user.pk, "app_listing.key_rotate", "hub.AppListing", str(listing.pk))
    ]
    assert AuditEvent.objects.get().data == {}


def test_unlocking_a_user_is_audited(admin_client, admin_user):
    locked = UserFactory(failed_login_count=3)
    User.objects.filter(pk=locked.pk).update(locked_until="2999-01-01T00:00Z")

    run_action(admin_client, "user", "unlock", locked)

    assert audit_trail() == [(admin_user.pk, "user.unlock", "hub.User", str(locked.pk))]
