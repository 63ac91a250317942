from django.db import migrations

from jobs.default_schedules import default_schedules_migrate


class Migration(migrations.Migration):
    """Adds the dashboard refresh to the default beat schedules (existing rows stay as the admin left them)."""

    dependencies = [
        ("jobs", "0002_checkout_holds_schedule"),
        ("exports", "0006_dashboard_daily_figures"),
    ]

    operations = [
        migrations.RunPython(default_schedules_migrate, migrations.RunPython.noop),
    ]
