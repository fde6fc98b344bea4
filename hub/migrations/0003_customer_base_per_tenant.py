"""Give every existing tenant a customer base of its own and file its people there."""

from django.db import migrations

import maestrano.uids


def bases_for_existing_rows(apps, schema_editor):
    CustomerBase = apps.get_model("hub", "CustomerBase")
    Tenant = apps.get_model("hub", "Tenant")
    Organization = apps.get_model("hub", "Organization")
    Membership = apps.get_model("hub", "Membership")
    User = apps.get_model("hub", "User")

    for tenant in Tenant.objects.filter(customer_base__isnull=True):
        tenant.customer_base = CustomerBase.objects.create(
            uid=maestrano.uids.new_uid("cbs"), name=tenant.name
        )
        tenant.save(update_fields=["customer_base"])
        Organization.objects.filter(tenant=tenant).update(
            customer_base=tenant.customer_base
        )

    # A person joins the base of their oldest membership; people in no
    # organisation (staff among them) stay outside every base.
    for user in User.objects.filter(customer_base__isnull=True):
        first = (
            Membership.objects.filter(user=user)
            .order_by("created_at", "pk")
            .select_related("organization")
            .first()
        )
        if first is not None:
            user.customer_base_id = first.organization.customer_base_id
            user.save(update_fields=["customer_base"])


class Migration(migrations.Migration):
    dependencies = [("hub", "0002_customer_bases_people_invites_teams")]

    operations = [
        migrations.RunPython(bases_for_existing_rows, migrations.RunPython.noop),
    ]
