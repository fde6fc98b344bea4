# Indexes of the query language: $filter's containment and $search's words.

import django.contrib.postgres.indexes
from django.db import migrations

import connec.models


class Migration(migrations.Migration):

    dependencies = [
        ("connec", "0004_collection_definitions_and_one_company"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="record",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["document"], name="record_document", opclasses=["jsonb_path_ops"]
            ),
        ),
        migrations.AddIndex(
            model_name="record",
            index=django.contrib.postgres.indexes.GinIndex(
                connec.models.DocumentWords("document"), name="record_search"
            ),
        ),
    ]
