from django.core.management.base import BaseCommand

from jobs.default_schedules import DEFAULT_SCHEDULES, default_schedules_ensure


class Command(BaseCommand):
    help = "Create the default beat schedules that are missing (existing ones, as edited in the admin, stay)."

    def handle(self, *args, **options):
        created = default_schedules_ensure()
        for schedule in DEFAULT_SCHEDULES:
            state = "created" if schedule.name in created else "already present"
            self.stdout.write(f"{schedule.name} ({schedule.task}): {state}")
