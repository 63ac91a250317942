from django.db import migrations

from exports.default_schedules import default_schedules_migrate


class Migration(migrations.Migration):
    dependencies = [
        ("exports", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(default_schedules_migrate, migrations.RunPython.noop)]
