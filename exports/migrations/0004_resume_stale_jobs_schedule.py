from django.db import migrations

from exports.default_schedules import default_schedules_migrate


class Migration(migrations.Migration):
    """Adds the "Resume jobs whose worker died" schedule to installations made before it existed."""

    dependencies = [
        ("exports", "0003_job_heartbeat_and_attempts"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(default_schedules_migrate, migrations.RunPython.noop)]
