from django.db import migrations

from jobs.default_schedules import default_schedules_migrate


class Migration(migrations.Migration):
    """Adds the default schedule that releases lapsed till checkout holds (rows already there stay as they are)."""

    dependencies = [
        ("jobs", "0001_default_schedules"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunPython(default_schedules_migrate, migrations.RunPython.noop),
    ]
