# "Most tokens" / "most expensive" sort DESC NULLS LAST (responses without usage or price go
# last). SQLite keeps NULLs smallest, so its plain indexes already serve that order backwards;
# PostgreSQL keeps them largest, so it needs indexes built in exactly that order. SQLite's
# CREATE INDEX has no NULLS LAST, hence PostgreSQL only, and not in Meta.indexes.

from django.db import migrations

INDEXES = {
    "stored_most_tokens": "total_tokens",
    "stored_most_expensive": "cost",
}


def create(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, column in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "inspector_storedresponse" '
            f'("{column}" DESC NULLS LAST, "id")'
        )


def drop(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [
        ("inspector", "0008_list_filter_indexes"),
    ]

    operations = [migrations.RunPython(create, drop)]
