import pytest
from django.urls import reverse

from hub.models import CustomerBase, OrgaInvite, Team, Tenant, User
from hub.tests.factories import TenantFactory, UserFactory


@pytest.fixture
def staff_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    "model", [CustomerBase, Team, OrgaInvite], ids=lambda model: model.__name__
)
def test_the_new_models_have_an_admin_list(staff_client, organization, model):
    meta = model._meta

    response = staff_client.get(
        reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
    )

    assert response.status_code == 200


def test_rotating_a_tenant_key_in_the_admin_shows_it_once(staff_client):
    tenant = TenantFactory()

    response = staff_client.post(
        reverse("admin:hub_tenant_changelist"),
        {"action": "rotate_tenant_key", "_selected_action": [tenant.pk]},
        follow=True,
    )

    [message] = [str(m) for m in response.context["messages"]]
    tenant_key = message.split(": ", 1)[1].split(" ", 1)[0]
    assert Tenant.objects.get(pk=tenant.pk).api_key_digest == Tenant.digest(tenant_key)


def test_unlocking_in_the_admin_clears_the_lock(staff_client):
    locked = UserFactory(failed_login_count=3)
    User.objects.filter(pk=locked.pk).update(locked_until="2999-01-01T00:00Z")

    staff_client.post(
        reverse("admin:hub_user_changelist"),
        {"action": "unlock", "_selected_action": [locked.pk]},
    )

    locked.refresh_from_db()
    assert (locked.failed_login_count, locked.locked_until) == (0, None)
