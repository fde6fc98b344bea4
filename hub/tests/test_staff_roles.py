import pytest
from django.urls import reverse

from hub.models import AuditEvent, Organization, Tenant, User
from hub.tests.factories import OrganizationFactory, TenantFactory, UserFactory


def staff_member(role):
    return UserFactory(is_staff=True, admin_role=role)


@pytest.fixture
def customer(organization):
    return UserFactory(customer_base=organization.customer_base, name="Casey")


def test_support_sees_organisations_but_cannot_change_them(client, organization):
    # given a support member
    client.force_login(staff_member(User.AdminRole.SUPPORT))
    url = reverse("admin:hub_organization_change", args=[organization.pk])

    # when they read the organisation and then try to rename it
    read = client.get(url)
    write = client.post(url, {"name": "Renamed"})

    # then reading works, writing is refused and nothing changed
    assert read.status_code == 200
    assert write.status_code == 403
    assert Organization.objects.get(pk=organization.pk).name == "Acme Pty"
    assert AuditEvent.objects.count() == 0


def test_support_cannot_delete_a_customer(client, customer):
    client.force_login(staff_member(User.AdminRole.SUPPORT))

    response = client.post(
        reverse("admin:hub_user_delete", args=[customer.pk]), {"post": "yes"}
    )

    assert response.status_code == 403
    assert User.objects.filter(pk=customer.pk).exists()


def test_staff_change_a_customer_and_the_change_is_audited(client, customer):
    # given a staff member
    actor = staff_member(User.AdminRole.STAFF)
    client.force_login(actor)

    # when they delete a customer
    response = client.post(
        reverse("admin:hub_user_delete", args=[customer.pk]), {"post": "yes"}
    )

    # then the customer is gone and the deletion is on record
    assert response.status_code == 302
    assert not User.objects.filter(pk=customer.pk).exists()
    event = AuditEvent.objects.get()
    assert (event.actor, event.action, event.target_type, event.target_id) == (
        actor,
        "admin.delete",
        "hub.User",
        str(customer.pk),
    )


def test_staff_cannot_change_another_staff_member(client, db):
    client.force_login(staff_member(User.AdminRole.STAFF))
    colleague = staff_member(User.AdminRole.SUPPORT)

    response = client.post(
        reverse("admin:hub_user_delete", args=[colleague.pk]), {"post": "yes"}
    )

    assert response.status_code == 403
    assert User.objects.get(pk=colleague.pk).admin_role == "support"


def test_staff_only_read_the_platform_configuration(client, db):
    # given a tenant and a staff member
    tenant = TenantFactory(name="Market")
    client.force_login(staff_member(User.AdminRole.STAFF))
    url = reverse("admin:hub_tenant_change", args=[tenant.pk])

    # when they try to rename it
    read = client.get(url)
    write = client.post(url, {"name": "Renamed", "frontend_config": "{}"})

    # then they may read it only
    assert read.status_code == 200
    assert write.status_code == 403
    assert Tenant.objects.get(pk=tenant.pk).name == "Market"


def test_an_admin_adds_an_organisation_and_it_is_audited(client, db):
    # given an admin without Django permissions of their own
    actor = staff_member(User.AdminRole.ADMIN)
    tenant = TenantFactory()
    client.force_login(actor)

    # when they add an organisation
    response = client.post(
        reverse("admin:hub_organization_add"),
        {
            "tenant": tenant.pk,
            "customer_base": tenant.customer_base_id,
            "name": "Newco",
            "currency": "USD",
            "country": "US",
            "timezone": "UTC",
            "financial_year_end_month": 6,
            "memberships-TOTAL_FORMS": 0,
            "memberships-INITIAL_FORMS": 0,
            "app_instances-TOTAL_FORMS": 0,
            "app_instances-INITIAL_FORMS": 0,
        },
    )

    # then it exists and the addition is audited against it
    assert response.status_code == 302
    organization = Organization.objects.get(name="Newco")
    event = AuditEvent.objects.get()
    assert (event.action, event.organization, event.target_id) == (
        "admin.add",
        organization,
        str(organization.pk),
    )


@pytest.mark.parametrize(
    ("role", "permitted"),
    [("admin", True), ("staff", False), ("support", False)],
)
def test_only_admins_grant_platform_roles(client, customer, role, permitted):
    # given a staff member of some role
    client.force_login(staff_member(role))

    # when they open a customer's form
    response = client.get(reverse("admin:hub_user_change", args=[customer.pk]))

    # then only an admin has the role as an editable field
    assert response.status_code == 200
    assert ("admin_role" in response.context["adminform"].form.fields) is permitted


def test_a_customer_never_reaches_the_admin(client, db):
    client.force_login(UserFactory())

    response = client.get(reverse("admin:hub_organization_changelist"))

    assert response.status_code == 302
    assert OrganizationFactory._meta.model.objects.count() == 0
