# The full-text index of stored items (issue 12): SearchText rows and the database's own
# index over them, then every response stored so far indexed, and the list's old search
# column (a capped, lowercased copy searched with LIKE) dropped.
#
# SQLite: an FTS5 table over SearchText.text (external content, so the text is kept once),
# filled by the store as it writes rows (store/search_index.add) and emptied by triggers as
# they are deleted or changed. PostgreSQL: a generated tsvector column ('simple': no stemming,
# no stop words, as FTS5's unicode61) with a GIN index; built in, no extension. Both cut
# words at anything that is not a letter or digit (PostgreSQL's punctuation is made a space
# first: its parser would keep "example.com" or "a-77" whole), as inspector/search.py does.
#
# A later migration that rebuilds inspector_searchtext on SQLite (an AlterField) drops these
# triggers with the old table: it must create them again.

import django.db.models.deletion
from django.db import migrations, models

SQLITE = [
    """CREATE VIRTUAL TABLE inspector_searchtext_fts USING fts5(
        text, content='inspector_searchtext', content_rowid='id',
        tokenize='unicode61 remove_diacritics 0', detail='none'
    )""",
    """CREATE TRIGGER inspector_searchtext_fts_delete AFTER DELETE ON inspector_searchtext
    BEGIN
        INSERT INTO inspector_searchtext_fts(inspector_searchtext_fts, rowid, text)
        VALUES ('delete', old.id, old.text);
    END""",
    """CREATE TRIGGER inspector_searchtext_fts_update AFTER UPDATE ON inspector_searchtext
    BEGIN
        INSERT INTO inspector_searchtext_fts(inspector_searchtext_fts, rowid, text)
        VALUES ('delete', old.id, old.text);
        INSERT INTO inspector_searchtext_fts(rowid, text) VALUES (new.id, new.text);
    END""",
]
SQLITE_UNDO = [
    "DROP TRIGGER IF EXISTS inspector_searchtext_fts_update",
    "DROP TRIGGER IF EXISTS inspector_searchtext_fts_delete",
    "DROP TABLE IF EXISTS inspector_searchtext_fts",
]
POSTGRESQL = [
    """ALTER TABLE inspector_searchtext ADD COLUMN document tsvector GENERATED ALWAYS AS (
        to_tsvector('simple'::regconfig, regexp_replace(text, '[[:punct:]]+', ' ', 'g'))
    ) STORED""",
    "CREATE INDEX inspector_searchtext_document ON inspector_searchtext USING GIN (document)",
]
POSTGRESQL_UNDO = [
    "DROP INDEX IF EXISTS inspector_searchtext_document",
    "ALTER TABLE inspector_searchtext DROP COLUMN IF EXISTS document",
]
BATCH = 200


def _run(schema_editor, statements):  # type: ignore[no-untyped-def]
    for statement in statements:
        schema_editor.execute(statement)


def create_index(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    _run(schema_editor, POSTGRESQL if vendor == "postgresql" else SQLITE)


def drop_index(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    _run(schema_editor, POSTGRESQL_UNDO if vendor == "postgresql" else SQLITE_UNDO)


def index_stored(apps, schema_editor):  # type: ignore[no-untyped-def]
    """Index every response stored so far, with the functions the store uses (the model is
    today's: this runs right after it is created, the same table)."""
    from inspector.schemas import Response, item_adapter
    from inspector.store import search_index

    StoredResponse = apps.get_model("inspector", "StoredResponse")
    InputItem = apps.get_model("inspector", "InputItem")
    ids = list(StoredResponse.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), BATCH):
        rows = []
        for row in StoredResponse.objects.filter(pk__in=ids[start : start + BATCH]):
            try:
                rows += search_index.response_rows(Response.model_validate(row.body))
            except ValueError:
                continue
            bodies = InputItem.objects.filter(response_id=row.pk).order_by("position")
            items = [
                (p, item_adapter.validate_python(b))
                for p, b in bodies.values_list("position", "body")
            ]
            rows += search_index.item_rows(row.pk, "input", items)
        search_index.add(rows, whole=True)


class Migration(migrations.Migration):
    dependencies = [
        ("inspector", "0015_fetch_steps_and_refresh"),
    ]

    operations = [
        migrations.CreateModel(
            name="SearchText",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("section", models.CharField(max_length=12)),
                ("position", models.PositiveIntegerField()),
                ("part", models.PositiveIntegerField(default=0)),
                ("anchor", models.CharField(max_length=220)),
                ("text", models.TextField()),
                (
                    "response",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="inspector.storedresponse",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=["response", "section", "position"], name="searchtext_by_item"
                    )
                ],
            },
        ),
        migrations.RunPython(create_index, drop_index),
        migrations.RunPython(index_stored, migrations.RunPython.noop),
        migrations.RemoveField(model_name="storedresponse", name="search_text"),
    ]
