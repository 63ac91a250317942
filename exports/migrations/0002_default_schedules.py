from django.db import migrations


def create_default_schedules(apps, schema_editor):
    from exports.default_schedules import default_schedules_ensure

    default_schedules_ensure(
        models=(
            apps.get_model("django_celery_beat", "IntervalSchedule"),
            apps.get_model("django_celery_beat", "CrontabSchedule"),
            apps.get_model("django_celery_beat", "PeriodicTask"),
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("exports", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_default_schedules, migrations.RunPython.noop)]
