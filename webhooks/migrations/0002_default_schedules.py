from django.db import migrations

from jobs.default_schedules import default_schedules_migrate


class Migration(migrations.Migration):
    """The webhook schedules (send what is due every minute, purge old events daily) as default beat rows."""

    dependencies = [
        ("webhooks", "0001_initial"),
        ("jobs", "0001_default_schedules"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(default_schedules_migrate, migrations.RunPython.noop)]
