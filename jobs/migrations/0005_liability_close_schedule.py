from django.db import migrations

from jobs.default_schedules import default_schedules_migrate


class Migration(migrations.Migration):
    """Adds the liability's day closes to the default beat schedules (existing rows stay as the admin left them)."""

    dependencies = [
        ("jobs", "0004_import_jobs"),
        ("exports", "0007_liability_closes"),
    ]

    operations = [
        migrations.RunPython(default_schedules_migrate, migrations.RunPython.noop),
    ]
