import secrets

from django.db import migrations, models

import hub.models


def sso_sessions_issue(apps, schema_editor):
    # Each existing person needs a value of their own before the column is
    # made unique; a column default would give them all the same one.
    User = apps.get_model("hub", "User")
    for user in User.objects.only("pk").iterator():
        User.objects.filter(pk=user.pk).update(sso_session=secrets.token_urlsafe(32))


class Migration(migrations.Migration):
    dependencies = [
        ("hub", "0005_staff_audit_account_webhooks"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="sso_session",
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        migrations.RunPython(sso_sessions_issue, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="user",
            name="sso_session",
            field=models.CharField(
                default=hub.models.new_sso_session,
                editable=False,
                max_length=64,
                unique=True,
            ),
        ),
    ]
