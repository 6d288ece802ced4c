"""The database cache's table (settings.CACHES), made by `migrate` so no deploy path can forget it: `make demo`,
`make serve`, the test databases and production all migrate. createcachetable skips tables that exist and caches
that are not database caches (CACHE_URL naming Redis)."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("core", "0003_auditevent_core_audite_object__bbabc4_idx")]

    # The table is not a model's, so unmigrating leaves it: dropping it would lose nothing worth a reverse step.
    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
