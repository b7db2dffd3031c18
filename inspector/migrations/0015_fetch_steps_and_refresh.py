# The fetch in steps (issue 12): a lease a step holds on a response, the pages of input
# items fetched for it (OPENAI_MAX_INPUT_PAGES), and the staging copy a refresh fills
# (Refresh, StagedItem) before it replaces the stored copy (issue 13, finding 8).

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

import inspector.models


class Migration(migrations.Migration):
    dependencies = [
        ("inspector", "0014_import_owner_and_login_audit"),
    ]

    operations = [
        migrations.AddField(
            model_name="storedresponse",
            name="fetch_lease_until",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="storedresponse",
            name="input_items_pages",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.CreateModel(
            name="Refresh",
            fields=[
                (
                    "response",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="pending_refresh",
                        serialize=False,
                        to="inspector.storedresponse",
                    ),
                ),
                ("body", inspector.models.ExactJSONField()),
                ("items_count", models.PositiveIntegerField(default=0)),
                ("pages", models.PositiveIntegerField(default=0)),
                ("error", models.TextField(blank=True)),
                ("started_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
        ),
        migrations.CreateModel(
            name="StagedItem",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("position", models.PositiveIntegerField()),
                ("item_id", models.CharField(blank=True, max_length=200)),
                ("type", models.CharField(blank=True, max_length=64)),
                ("body", inspector.models.KeptJSONField()),
                (
                    "response",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="staged_items",
                        to="inspector.storedresponse",
                    ),
                ),
            ],
            options={
                "ordering": ["response", "position"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("response", "position"), name="one_staged_per_position"
                    )
                ],
            },
        ),
    ]
