from django.db import migrations


class Migration(migrations.Migration):
    """Adds the "Resume jobs whose worker died" schedule to installations made before it existed."""

    dependencies = [
        ("exports", "0003_job_heartbeat_and_attempts"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    # The default schedules belong to the jobs app now (jobs 0001); this step is kept for the history.
    operations = []
