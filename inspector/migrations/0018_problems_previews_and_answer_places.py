# The list's problems and previews, and where a tool call's answer is stored. Responses
# stored before are filled with the functions the store uses (their calls' problems from the
# tool-call index as it is); `manage.py reindex_tool_calls` links calls to answers in later
# responses and words shell outcomes ("exit 1").

from django.db import migrations, models

BATCH = 500


def backfill(apps, schema_editor):  # type: ignore[no-untyped-def]
    from inspector import listing, problems
    from inspector.schemas import Response

    StoredResponse = apps.get_model("inspector", "StoredResponse")
    ToolCall = apps.get_model("inspector", "ToolCall")
    ids = list(StoredResponse.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), BATCH):
        rows = list(StoredResponse.objects.filter(pk__in=ids[start : start + BATCH]))
        calls: dict[str, list[str]] = {}
        for call in ToolCall.objects.filter(response_id__in=[row.pk for row in rows]):
            calls.setdefault(call.response_id, []).extend(problems.row_kinds(call))
        for row in rows:
            try:
                response = Response.model_validate(row.body)
            except ValueError:
                continue
            items = row.items.order_by("position").values_list("body", flat=True)
            user = items.filter(type="message", body__role="user")[:1]
            row.input_preview = listing.input_preview([*user, *items[:1]])
            row.output_preview = listing.output_preview(response)
            own = problems.kinds(problems.own(response))
            row.problems = problems.column(own + calls.get(row.pk, []))
        StoredResponse.objects.bulk_update(rows, ["input_preview", "output_preview", "problems"])


class Migration(migrations.Migration):
    dependencies = [
        ("inspector", "0017_cache_table"),
    ]

    operations = [
        migrations.AddField(
            model_name="storedresponse",
            name="input_preview",
            field=models.CharField(blank=True, default="", max_length=300),
        ),
        migrations.AddField(
            model_name="storedresponse",
            name="output_preview",
            field=models.CharField(blank=True, default="", max_length=300),
        ),
        migrations.AddField(
            model_name="storedresponse",
            name="problems",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.AddField(
            model_name="toolcall",
            name="answer_position",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="toolcall",
            name="answer_response_id",
            field=models.CharField(blank=True, max_length=128),
        ),
        migrations.AddField(
            model_name="toolcall",
            name="answer_where",
            field=models.CharField(blank=True, max_length=6),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
