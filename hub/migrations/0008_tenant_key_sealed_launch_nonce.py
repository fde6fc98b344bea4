# Launch tokens (wtk): a sealed copy of each tenant key, and the nonces already used.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('hub', '0007_app_listing_sso_paths_app_environment'),
    ]

    operations = [
        migrations.AddField(
            model_name='tenant',
            name='api_key_sealed',
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.CreateModel(
            name='LaunchNonce',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('nonce_digest', models.CharField(max_length=64)),
                ('expires_at', models.DateTimeField(db_index=True)),
                ('tenant', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='hub.tenant')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('tenant', 'nonce_digest'), name='launch_nonce_unique_per_tenant')],
            },
        ),
    ]
