"""Issue 16: runs (/runs/) and the hourly rollups /overview/ reads.

- StoredResponse gets `duration` (the slowest responses) and `run_key` (its run); ToolCall
  gets its response's `model`. Existing rows are filled in.
- Run: one row per run, kept by inspector/store/runs.py; filled here by the store's own
  `rebuild_runs` (as 0005 filled the list's columns with listing.py).
- UsageHour and ToolHour: sums per hour (UTC) and model (and tool), kept by the database
  triggers below, so every path that writes responses or tool calls keeps them exact:
  the ORM, the import's bulk INSERTs, bulk_update, deletes and cascades. One trigger
  function per table on PostgreSQL; one trigger per event on SQLite (3.24+ for UPSERT).
  An UPDATE that changes no summed column changes nothing; a cell that falls to zero is
  removed, so the tables hold only the hours that have data.
"""

import re
from typing import Any

from django.db import migrations, models
from django.db.models import DurationField, ExpressionWrapper, F, OuterRef, Subquery

#: Each rolled-up table: (rollup table, its key columns, its columns). A column is
#: (name, SQL over the row `{r}` (NEW or OLD), whether that SQL is a boolean to count);
#: `{hour}` is the hour (UTC) of the row's created_at.
ROLLUPS: dict[str, tuple[str, list[str], list[tuple[str, str, bool]]]] = {
    "inspector_storedresponse": (
        "inspector_usagehour",
        ["hour", "model"],
        [
            ("hour", "{hour}", False),
            ("model", "{r}.model", False),
            ("requests", "1", False),
            ("errors", "{r}.status = 'failed' OR {r}.error_code <> ''", True),
            ("input_tokens", "COALESCE({r}.input_tokens, 0)", False),
            ("cached_tokens", "COALESCE({r}.cached_tokens, 0)", False),
            ("output_tokens", "COALESCE({r}.output_tokens, 0)", False),
            ("reasoning_tokens", "COALESCE({r}.reasoning_tokens, 0)", False),
            ("cost", "COALESCE({r}.cost, 0)", False),
            ("unpriced", "{r}.cost IS NULL AND {r}.input_tokens IS NOT NULL", True),
        ],
    ),
    "inspector_toolcall": (
        "inspector_toolhour",
        ["hour", "model", "name", "type"],
        [
            ("hour", "{hour}", False),
            ("model", "{r}.model", False),
            ("name", "{r}.name", False),
            ("type", "{r}.type", False),
            ("calls", "1", False),
            ("failed", "{r}.failed", True),
            ("unanswered", "{r}.no_output", True),
            (
                "flagged",
                "{r}.no_output OR {r}.bad_json OR {r}.breaks_schema OR {r}.undeclared"
                " OR {r}.failed OR {r}.needs_approval OR {r}.approval = 'denied'",
                True,
            ),
        ],
    ),
}
HOUR = {
    "sqlite": "strftime('%Y-%m-%d %H:00:00', {r}.created_at)",
    "postgresql": "date_trunc('hour', {r}.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
}


def _sql(vendor: str, expression: str, row: str, counted: bool) -> str:
    sql = expression.format(r=row, hour=HOUR[vendor].format(r=row))
    if not counted:
        return sql
    return f"({sql})" if vendor == "sqlite" else f"CAST(({sql}) AS integer)"


def _watched(table: str) -> list[str]:
    """The row's columns the rollup reads: an UPDATE of none of them changes nothing."""
    _, _, columns = ROLLUPS[table]
    return sorted(
        {"created_at"} | {n for _, sql, _ in columns for n in re.findall(r"{r}\.(\w+)", sql)}
    )


def _cell(vendor: str, table: str, row: str, add: bool) -> str:
    """The UPSERT that adds (or takes away) one row's share of its hour's cell; taking
    away also removes the cell if that left it empty."""
    rollup, keys, columns = ROLLUPS[table]
    values, updates = [], []
    for name, expression, counted in columns:
        value = _sql(vendor, expression, row, counted)
        if name not in keys:
            value = value if add else f"-({value})"
            updates.append(f"{name} = {rollup}.{name} + excluded.{name}")
        values.append(value)
    upsert = (
        f"INSERT INTO {rollup} ({', '.join(name for name, _, _ in columns)}) "
        f"SELECT {', '.join(values)} WHERE {row}.created_at IS NOT NULL "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {', '.join(updates)};"
    )
    if add:
        return upsert
    expressions = {name: (expression, counted) for name, expression, counted in columns}
    match = " AND ".join(f"{key} = {_sql(vendor, expressions[key][0], row, False)}" for key in keys)
    return f"{upsert}\nDELETE FROM {rollup} WHERE {match} AND {columns[len(keys)][0]} = 0;"


def _changed(table: str) -> str:
    """SQL true when an UPDATE changed a column the rollup reads."""
    return " OR ".join(f"OLD.{name} IS DISTINCT FROM NEW.{name}" for name in _watched(table))


def trigger_sql(vendor: str) -> list[str]:
    """The statements that create the triggers of both rollups on `vendor`."""
    statements = []
    for table in ROLLUPS:
        name = f"{ROLLUPS[table][0]}_rollup"
        if vendor == "sqlite":
            changed = _changed(table).replace("IS DISTINCT FROM", "IS NOT")
            watched = ", ".join(_watched(table))
            statements += [
                f"CREATE TRIGGER {name}_insert AFTER INSERT ON {table} BEGIN\n"
                f"{_cell(vendor, table, 'NEW', True)}\nEND;",
                f"CREATE TRIGGER {name}_delete AFTER DELETE ON {table} BEGIN\n"
                f"{_cell(vendor, table, 'OLD', False)}\nEND;",
                f"CREATE TRIGGER {name}_update AFTER UPDATE OF {watched} ON {table} "
                f"WHEN {changed} BEGIN\n{_cell(vendor, table, 'OLD', False)}\n"
                f"{_cell(vendor, table, 'NEW', True)}\nEND;",
            ]
        else:
            statements += [
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n"
                f"IF TG_OP = 'UPDATE' AND NOT ({_changed(table)}) THEN RETURN NULL; END IF;\n"
                f"IF TG_OP <> 'INSERT' THEN\n{_cell(vendor, table, 'OLD', False)}\nEND IF;\n"
                f"IF TG_OP <> 'DELETE' THEN\n{_cell(vendor, table, 'NEW', True)}\nEND IF;\n"
                "RETURN NULL;\nEND;\n$$;",
                f"CREATE TRIGGER {name} AFTER INSERT OR DELETE OR UPDATE OF "
                f"{', '.join(_watched(table))} ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {name}();",
            ]
    return statements


def backfill_sql(vendor: str) -> list[str]:
    """The statements that sum the rows stored before the triggers into the rollups."""
    statements = []
    for table, (rollup, keys, columns) in ROLLUPS.items():
        values = [
            _sql(vendor, expression, table, counted)
            if name in keys
            else f"SUM({_sql(vendor, expression, table, counted)})"
            for name, expression, counted in columns
        ]
        # Table and column names come from ROLLUPS above, never from input.
        statements.append(
            f"INSERT INTO {rollup} ({', '.join(name for name, _, _ in columns)}) "  # noqa: S608
            f"SELECT {', '.join(values)} FROM {table} WHERE {table}.created_at IS NOT NULL "
            f"GROUP BY {', '.join(str(i + 1) for i in range(len(keys)))}"
        )
    return statements


def drop_sql(vendor: str) -> list[str]:
    statements = []
    for table in ROLLUPS:
        name = f"{ROLLUPS[table][0]}_rollup"
        if vendor == "sqlite":
            statements += [f"DROP TRIGGER IF EXISTS {name}_{event}" for event in
                           ("insert", "delete", "update")]  # fmt: skip
        else:
            statements += [
                f"DROP TRIGGER IF EXISTS {name} ON {table}",
                f"DROP FUNCTION IF EXISTS {name}()",
            ]
    return statements


def _run(schema_editor: Any, statements: list[str]) -> None:
    with schema_editor.connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def fill_columns(apps: Any, schema_editor: Any) -> None:
    """The new columns of the rows stored before them: durations and tool calls' models."""
    stored = apps.get_model("inspector", "StoredResponse")
    stored.objects.filter(completed_at__gte=F("created_at")).update(
        duration=ExpressionWrapper(
            F("completed_at") - F("created_at"), output_field=DurationField()
        )
    )
    calls = apps.get_model("inspector", "ToolCall")
    model = stored.objects.filter(pk=OuterRef("response_id")).values("model")[:1]
    calls.objects.update(model=Subquery(model))


def add_triggers(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    _run(schema_editor, backfill_sql(vendor) + trigger_sql(vendor))


def drop_triggers(apps: Any, schema_editor: Any) -> None:
    _run(schema_editor, drop_sql(schema_editor.connection.vendor))


#: /runs/ sorts "most tokens", "most expensive", "longest" DESC NULLS LAST (runs without
#: usage or price go last). SQLite keeps NULLs smallest, so Meta's plain indexes serve that
#: order backwards; PostgreSQL keeps them largest and needs indexes in exactly that order
#: (as migration 0009 made for the list). SQLite's CREATE INDEX has no NULLS LAST.
RUN_SORT_INDEXES = {
    "run_most_tokens": "total_tokens",
    "run_most_expensive": "cost",
    "run_longest": "duration",
}


def add_sort_indexes(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, column in RUN_SORT_INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "inspector_run" '
            f'("{column}" DESC NULLS LAST, "key")'
        )


def drop_sort_indexes(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in RUN_SORT_INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


def recognise_runs(apps: Any, schema_editor: Any) -> None:
    from inspector.store.runs import rebuild_runs

    rebuild_runs()


class Migration(migrations.Migration):
    dependencies = [
        ("inspector", "0018_problems_previews_and_answer_places"),
    ]

    operations = [
        migrations.AddField(
            model_name="storedresponse",
            name="duration",
            field=models.DurationField(blank=True, db_index=True, null=True),
        ),
        migrations.AddField(
            model_name="storedresponse",
            name="run_key",
            field=models.CharField(blank=True, db_index=True, max_length=220),
        ),
        migrations.AddField(
            model_name="toolcall",
            name="model",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.CreateModel(
            name="Run",
            fields=[
                ("key", models.CharField(max_length=220, primary_key=True, serialize=False)),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("chain", "previous_response_id"),
                            ("conversation", "conversation"),
                        ],
                        max_length=16,
                    ),
                ),
                ("first_id", models.CharField(max_length=128)),
                ("last_id", models.CharField(max_length=128)),
                ("missing_id", models.CharField(blank=True, max_length=128)),
                ("incomplete", models.PositiveIntegerField(default=0)),
                ("first_input", models.TextField(blank=True)),
                ("turns", models.PositiveIntegerField(db_index=True, default=0)),
                ("branches", models.PositiveIntegerField(default=1)),
                ("model_names", models.TextField(blank=True)),
                ("tool_names", models.TextField(blank=True)),
                ("last_status", models.CharField(blank=True, max_length=32)),
                ("input_tokens", models.PositiveBigIntegerField(blank=True, null=True)),
                ("cached_tokens", models.PositiveBigIntegerField(blank=True, null=True)),
                ("output_tokens", models.PositiveBigIntegerField(blank=True, null=True)),
                ("reasoning_tokens", models.PositiveBigIntegerField(blank=True, null=True)),
                (
                    "total_tokens",
                    models.PositiveBigIntegerField(blank=True, db_index=True, null=True),
                ),
                (
                    "cost",
                    models.DecimalField(
                        blank=True, db_index=True, decimal_places=10, max_digits=20, null=True
                    ),
                ),
                ("cost_partial", models.BooleanField(default=False)),
                ("errors", models.PositiveIntegerField(default=0)),
                ("failed_calls", models.PositiveIntegerField(default=0)),
                ("unanswered", models.PositiveIntegerField(default=0)),
                ("problems", models.PositiveIntegerField(db_index=True, default=0)),
                ("started_at", models.DateTimeField(blank=True, null=True)),
                ("ended_at", models.DateTimeField(blank=True, null=True)),
                ("duration", models.DurationField(blank=True, db_index=True, null=True)),
                ("approved", models.PositiveIntegerField(default=0)),
                ("flagged", models.PositiveIntegerField(default=0)),
                (
                    "review",
                    models.CharField(
                        choices=[
                            ("unreviewed", "unreviewed"),
                            ("partly", "partly reviewed"),
                            ("approved", "approved"),
                            ("flagged", "flagged"),
                        ],
                        default="unreviewed",
                        max_length=16,
                    ),
                ),
            ],
            options={
                "ordering": ["-started_at", "key"],
                "indexes": [
                    models.Index(fields=["-started_at", "key"], name="run_newest_first"),
                    models.Index(
                        fields=["last_status", "-started_at", "key"], name="run_by_status"
                    ),
                    models.Index(fields=["review", "-started_at", "key"], name="run_by_review"),
                    models.Index(
                        condition=models.Q(("problems__gt", 0)),
                        fields=["-started_at", "key"],
                        name="run_with_problems",
                    ),
                    models.Index(
                        condition=models.Q(("turns__gt", 1)),
                        fields=["-started_at", "key"],
                        name="run_several_turns",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="ToolHour",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("hour", models.DateTimeField()),
                ("model", models.CharField(blank=True, max_length=200)),
                ("name", models.CharField(blank=True, max_length=200)),
                ("type", models.CharField(blank=True, max_length=64)),
                ("calls", models.BigIntegerField(default=0)),
                ("failed", models.BigIntegerField(default=0)),
                ("unanswered", models.BigIntegerField(default=0)),
                ("flagged", models.BigIntegerField(default=0)),
            ],
            options={
                "ordering": ["hour", "model", "name", "type"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("hour", "model", "name", "type"), name="one_tool_row_per_hour"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="UsageHour",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("hour", models.DateTimeField()),
                ("model", models.CharField(blank=True, max_length=200)),
                ("requests", models.BigIntegerField(default=0)),
                ("errors", models.BigIntegerField(default=0)),
                ("input_tokens", models.BigIntegerField(default=0)),
                ("cached_tokens", models.BigIntegerField(default=0)),
                ("output_tokens", models.BigIntegerField(default=0)),
                ("reasoning_tokens", models.BigIntegerField(default=0)),
                ("cost", models.DecimalField(decimal_places=10, default=0, max_digits=24)),
                ("unpriced", models.BigIntegerField(default=0)),
            ],
            options={
                "ordering": ["hour", "model"],
                "constraints": [
                    models.UniqueConstraint(fields=("hour", "model"), name="one_usage_row_per_hour")
                ],
            },
        ),
        migrations.AddIndex(
            model_name="toolhour",
            index=models.Index(
                fields=["hour", "name", "type", "calls", "failed", "unanswered", "flagged"],
                name="toolhour_period",
            ),
        ),
        migrations.AddIndex(
            model_name="usagehour",
            index=models.Index(
                fields=[
                    "hour",
                    "model",
                    "requests",
                    "errors",
                    "input_tokens",
                    "cached_tokens",
                    "output_tokens",
                    "reasoning_tokens",
                    "cost",
                    "unpriced",
                ],
                name="usagehour_period",
            ),
        ),
        migrations.RunPython(fill_columns, migrations.RunPython.noop),
        migrations.RunPython(add_triggers, drop_triggers),
        migrations.RunPython(add_sort_indexes, drop_sort_indexes),
        migrations.RunPython(recognise_runs, migrations.RunPython.noop),
    ]
