# Fills the list's columns (search text, cost, metadata) of responses stored before they
# existed, with the same functions the store uses when it writes a response.

from django.db import migrations

BATCH = 500


def backfill(apps, schema_editor):  # type: ignore[no-untyped-def]
    from inspector import listing
    from inspector.schemas import Response

    StoredResponse = apps.get_model("inspector", "StoredResponse")
    InputItem = apps.get_model("inspector", "InputItem")
    ids = list(StoredResponse.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), BATCH):
        rows = list(StoredResponse.objects.filter(pk__in=ids[start : start + BATCH]))
        for row in rows:
            try:
                response = Response.model_validate(row.body)
            except ValueError:
                continue
            columns = listing.list_columns(response)
            items = InputItem.objects.filter(response_id=row.pk).order_by("position")
            text = columns["search_text"]
            for offset in range(0, row.input_items_count, BATCH):
                if len(text) >= listing.SEARCH_TEXT_MAX:
                    break
                page = list(items.values_list("body", flat=True)[offset : offset + BATCH])
                text = listing.extend_search_text(text, page)
            row.search_text = text
            row.cost = columns["cost"]
            row.metadata = columns["metadata"]
        StoredResponse.objects.bulk_update(rows, ["search_text", "cost", "metadata"])


class Migration(migrations.Migration):
    dependencies = [
        ("inspector", "0004_notes_review_and_list_columns"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
