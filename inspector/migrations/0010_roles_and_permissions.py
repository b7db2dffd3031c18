"""The permissions of the roles, and the roles as groups (inspector/access.py says who may
do what). The groups are a snapshot of access.ROLES; a test keeps the two equal."""

from typing import Any

from django.db import migrations

READ = ("view_storedresponse", "view_playgroundsession", "add_playgroundsession")
ROLES = {
    "viewer": READ,
    "fetcher": (*READ, "fetch_upstream"),
    "reviewer": (*READ, "review"),
    "importer": (*READ, "import_responses"),
    "admin": (
        *READ,
        "fetch_upstream",
        "review",
        "import_responses",
        "delete_storedresponse",
        "export_unredacted",
    ),
}


def create_roles(apps: Any, schema_editor: Any) -> None:
    # Permissions are made after all migrations (post_migrate); make this app's now.
    from django.contrib.auth.management import create_permissions

    config = apps.get_app_config("inspector")
    config.models_module = True
    create_permissions(config, apps=apps, verbosity=0)
    config.models_module = None
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group, _ = group_model.objects.get_or_create(name=name)
        group.permissions.add(
            *permission_model.objects.filter(
                content_type__app_label="inspector", codename__in=codenames
            )
        )


def remove_roles(apps: Any, schema_editor: Any) -> None:
    apps.get_model("auth", "Group").objects.filter(name__in=list(ROLES)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("inspector", "0009_postgres_biggest_first_indexes"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
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
                ],
            },
        ),
        migrations.RunPython(create_roles, remove_roles),
    ]
