from django.core.management.base import BaseCommand

from config.actors import Actor
from jobs.sweeps import jobs_resume_stale


class Command(BaseCommand):
    help = "Resume jobs whose worker died and fail those out of attempts now (the same service as the schedule)."

    def handle(self, *args, **options):
        for kind, counts in jobs_resume_stale(actor=Actor.cli("resume_stale_jobs")).items():
            self.stdout.write(f"{kind.replace('_', ' ').capitalize()}: {counts['resumed']} resumed, "
                              f"{counts['failed']} failed.")  # fmt: skip
