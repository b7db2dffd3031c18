"""Issue 13: updating a stored response by import is a permission of its own (the admin role
gets it); imported notes and reviews are marked so; failed logins enter the audit trail; input
items are read back clipped to nesting.MAX_DEPTH like response bodies."""

from typing import Any

from django.db import migrations, models

import inspector.models

#: Who the note that keeps replaced characters is by (store.SCRUB_NOTE_AUTHOR, as of now).
SCRUB_NOTE_AUTHOR = "responses-inspector"


def grant_admins(apps: Any, schema_editor: Any) -> None:
    """The admin role may update by import (inspector/access.py)."""
    from django.contrib.auth.management import create_permissions

    config = apps.get_app_config("inspector")
    config.models_module = True
    create_permissions(config, apps=apps, verbosity=0)
    config.models_module = None
    group = apps.get_model("auth", "Group").objects.filter(name="admin").first()
    if group is not None:
        group.permissions.add(
            *apps.get_model("auth", "Permission").objects.filter(
                content_type__app_label="inspector", codename="update_by_import"
            )
        )


def mark_imported(apps: Any, schema_editor: Any) -> None:
    """Notes and reviews kept before this migration with a name but no user of this site
    came from bundles (or from a user since deleted): say they were not written here."""
    note = apps.get_model("inspector", "Note")
    note.objects.filter(author__isnull=True).exclude(author_name=SCRUB_NOTE_AUTHOR).update(
        imported=True
    )
    stored = apps.get_model("inspector", "StoredResponse")
    stored.objects.filter(reviewed_by__isnull=True, reviewed_at__isnull=False).update(
        review_imported=True
    )


class Migration(migrations.Migration):
    dependencies = [
        ("inspector", "0013_fewer_indexes_to_write"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="storedresponse",
            options={
                "ordering": ["-created_at", "id"],
                "permissions": [
                    ("fetch_upstream", "Can fetch responses from the upstream API"),
                    ("review", "Can write notes and set the review status"),
                    ("import_responses", "Can import responses"),
                    ("export_unredacted", "Can export responses without redaction"),
                    ("update_by_import", "Can update a stored response by importing it"),
                ],
            },
        ),
        migrations.AddField(
            model_name="note",
            name="imported",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="storedresponse",
            name="review_imported",
            field=models.BooleanField(default=False),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="action",
            field=models.CharField(
                choices=[
                    ("fetched", "fetched from upstream"),
                    ("viewed", "viewed"),
                    ("exported", "exported"),
                    ("imported", "imported"),
                    ("deleted", "deleted"),
                    ("login failed", "login failed"),
                ],
                db_index=True,
                max_length=16,
            ),
        ),
        migrations.AlterField(
            model_name="inputitem",
            name="body",
            field=inspector.models.KeptJSONField(),
        ),
        migrations.RunPython(grant_admins, migrations.RunPython.noop),
        migrations.RunPython(mark_imported, migrations.RunPython.noop),
    ]
