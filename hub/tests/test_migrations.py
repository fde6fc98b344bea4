import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("hub", "0002_customer_bases_people_invites_teams")]
AFTER = [("hub", "0004_customer_base_required")]


@pytest.fixture
def executor(transactional_db):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    yield executor
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_every_tenant_gets_a_base_and_people_follow_their_first_company(executor):
    old = executor.loader.project_state(BEFORE).apps
    Tenant = old.get_model("hub", "Tenant")
    Organization = old.get_model("hub", "Organization")
    Membership = old.get_model("hub", "Membership")
    User = old.get_model("hub", "User")
    north, south = (
        Tenant.objects.create(name="North"),
        Tenant.objects.create(name="South"),
    )
    acme = Organization.objects.create(tenant=north, name="Acme")
    bolt = Organization.objects.create(tenant=south, name="Bolt")
    pat = User.objects.create(email="pat@example.test")
    staff = User.objects.create(email="staff@example.test", is_staff=True)
    Membership.objects.create(user=pat, organization=acme)
    Membership.objects.create(user=pat, organization=bolt)

    executor.loader.build_graph()
    executor.migrate(AFTER)

    new = executor.loader.project_state(AFTER).apps
    tenants = new.get_model("hub", "Tenant").objects
    organizations = new.get_model("hub", "Organization").objects
    users = new.get_model("hub", "User").objects
    north_base = tenants.get(name="North").customer_base
    south_base = tenants.get(name="South").customer_base
    assert (north_base.name, south_base.name) == ("North", "South")
    assert organizations.get(name="Acme").customer_base_id == north_base.pk
    assert organizations.get(name="Bolt").customer_base_id == south_base.pk
    assert users.get(pk=pat.pk).customer_base_id == north_base.pk
    assert users.get(pk=staff.pk).customer_base_id is None
