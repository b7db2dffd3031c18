# Fills the list's columns (cost, metadata) of responses stored before they existed, with the
# same functions the store uses when it writes a response. (It filled a search text column
# too, which migration 0015 replaced by a full-text index and dropped.)

from django.db import migrations

BATCH = 500


def backfill(apps, schema_editor):  # type: ignore[no-untyped-def]
    from inspector import listing
    from inspector.schemas import Response

    StoredResponse = apps.get_model("inspector", "StoredResponse")
    ids = list(StoredResponse.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), BATCH):
        rows = list(StoredResponse.objects.filter(pk__in=ids[start : start + BATCH]))
        for row in rows:
            try:
                response = Response.model_validate(row.body)
            except ValueError:
                continue
            columns = listing.list_columns(response)
            row.cost = columns["cost"]
            row.metadata = columns["metadata"]
        StoredResponse.objects.bulk_update(rows, ["cost", "metadata"])


class Migration(migrations.Migration):
    dependencies = [
        ("inspector", "0004_notes_review_and_list_columns"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
