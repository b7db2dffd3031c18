# The database cache table (the per-user rate limit on upstream fetches, CACHE_URL db://…),
# made by migration: a deployment that runs only `manage.py migrate` works from its first
# fetch (issue 12). The same as `manage.py createcachetable`, which skips tables that exist;
# other cache backends (redis://, locmem://) need no table and get none.

from django.core.management import call_command
from django.db import migrations


def create_cache_tables(apps, schema_editor):  # type: ignore[no-untyped-def]
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [
        ("inspector", "0016_search_index"),
    ]

    operations = [migrations.RunPython(create_cache_tables, migrations.RunPython.noop)]
