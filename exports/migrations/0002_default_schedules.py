from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("exports", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    # The default schedules belong to the jobs app now (jobs 0001); this step is kept for the history.
    operations = []
