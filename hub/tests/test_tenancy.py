import hashlib

import pytest
from django.core.exceptions import ValidationError

from hub import selectors, services
from hub.errors import HubError
from hub.models import CustomerBase, Membership, Organization, Tenant
from hub.tests.factories import (
    CustomerBaseFactory,
    TenantFactory,
    UserFactory,
)


@pytest.fixture
def shared_base(db):
    return CustomerBaseFactory(name="Shared customers")


@pytest.fixture
def frontends(shared_base):
    """Two frontends sharing one customer base, and a third with its own."""
    first, _ = services.tenant_create(name="First", customer_base=shared_base)
    second, _ = services.tenant_create(name="Second", customer_base=shared_base)
    third, _ = services.tenant_create(name="Third")
    return first, second, third


def test_a_new_tenant_key_is_stored_only_as_its_digest(db):
    tenant, tenant_key = services.tenant_create(name="Acme Market")

    stored = Tenant.objects.get(pk=tenant.pk)
    assert stored.uid.startswith("tnt-")
    assert stored.api_key_digest == hashlib.sha256(tenant_key.encode()).hexdigest()
    assert selectors.tenant_authenticate(tenant.uid, tenant_key) == tenant


def test_a_tenant_without_a_named_base_gets_one_of_its_own(db):
    tenant, _ = services.tenant_create(name="Acme Market")

    assert tenant.customer_base.name == "Acme Market"
    assert list(tenant.customer_base.tenants.all()) == [tenant]


def test_a_tenant_saved_without_a_base_gets_one_of_its_own(db):
    tenant = Tenant.objects.create(name="Made elsewhere")

    assert tenant.customer_base.name == "Made elsewhere"
    assert CustomerBase.objects.count() == 1


def test_rotating_the_key_retires_the_old_one(db):
    tenant, old_key = services.tenant_create(name="Acme Market")

    new_key = services.tenant_key_rotate(tenant=tenant)

    assert new_key != old_key
    assert selectors.tenant_authenticate(tenant.uid, old_key) is None
    assert selectors.tenant_authenticate(tenant.uid, new_key) == tenant


def test_wrong_key_unknown_id_and_a_tenant_without_key_do_not_authenticate(db):
    tenant, tenant_key = services.tenant_create(name="Acme Market")
    keyless = TenantFactory()

    assert selectors.tenant_authenticate(tenant.uid, tenant_key + "x") is None
    assert selectors.tenant_authenticate("tnt-unknown", tenant_key) is None
    assert selectors.tenant_authenticate(keyless.uid, "") is None


def test_frontends_sharing_a_base_see_the_same_customers_and_a_third_none(
    frontends,
):
    first, second, third = frontends
    person = UserFactory(email="pat@acme.test")

    acme = services.organization_create(tenant=first, name="Acme", owner=person)

    assert list(selectors.organizations_for_tenant(second)) == [acme]
    assert list(selectors.users_for_tenant(second)) == [person]
    assert list(selectors.organizations_for_tenant(third)) == []
    assert list(selectors.users_for_tenant(third)) == []
    assert (
        selectors.organization_in_customer_base(third.customer_base, acme.uid) is None
    )
    assert selectors.user_by_email(third.customer_base, "pat@acme.test") is None
    assert selectors.user_by_email(second.customer_base, "PAT@acme.test") == person


def test_an_owner_of_another_base_cannot_create_an_organisation_here(frontends):
    first, _, third = frontends
    stranger = UserFactory(customer_base=third.customer_base)

    with pytest.raises(HubError) as refused:
        services.organization_create(tenant=first, name="Acme", owner=stranger)

    assert refused.value.code == "other_customer_base"
    assert Organization.objects.count() == 0
    assert Membership.objects.count() == 0


def test_a_membership_across_bases_is_invalid(organization):
    stranger = UserFactory(customer_base=CustomerBaseFactory())

    with pytest.raises(ValidationError):
        Membership(user=stranger, organization=organization).full_clean()


def test_an_organisation_joins_its_tenants_base(frontends):
    first, _, third = frontends

    organization = Organization(
        tenant=first, customer_base=third.customer_base, name="Misfiled"
    )

    with pytest.raises(ValidationError) as invalid:
        organization.full_clean()
    assert list(invalid.value.message_dict) == ["customer_base"]


def test_external_ids_are_unique_within_a_base_only(frontends):
    first, second, third = frontends
    services.organization_create(tenant=first, name="Acme", external_id="42")

    services.organization_create(tenant=third, name="Other Acme", external_id="42")
    with pytest.raises(ValidationError):
        services.organization_create(tenant=second, name="Acme 2", external_id="42")

    assert Organization.objects.filter(external_id="42").count() == 2


def test_valid_feature_flags_are_saved(db):
    tenant = TenantFactory()
    flags = {
        "dashboard": {"payment": {"enabled": False}},
        "admin_panel": {"impersonation": {"enabled": True, "consent_required": True}},
        "system": {"i18n": {"enabled": True, "available_locales": ["en", "fr-CA"]}},
    }

    services.tenant_frontend_config_update(tenant=tenant, frontend_config=flags)

    tenant.refresh_from_db()
    assert tenant.frontend_config == flags
    assert selectors.tenant_feature_enabled(tenant, "dashboard.payment") is False
    assert selectors.tenant_feature_enabled(tenant, "admin_panel.impersonation")
    assert selectors.tenant_feature_enabled(tenant, "dashboard.impac") is False
    assert selectors.tenant_feature_enabled(tenant, "dashboard.impac", default=True)


def test_invalid_feature_flags_are_refused_and_nothing_changes(db):
    tenant = TenantFactory(frontend_config={"dashboard": {"impac": {"enabled": True}}})
    flags = {"dashboard": {"payment": {"enabled": "no"}}, "typo": {}}

    with pytest.raises(ValidationError) as invalid:
        services.tenant_frontend_config_update(tenant=tenant, frontend_config=flags)

    assert invalid.value.message_dict["frontend_config"] == [
        "(top): Additional properties are not allowed ('typo' was unexpected)",
        "dashboard.payment.enabled: 'no' is not of type 'boolean'",
    ]
    tenant.refresh_from_db()
    assert tenant.frontend_config == {"dashboard": {"impac": {"enabled": True}}}
