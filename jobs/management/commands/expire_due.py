from django.core.management.base import BaseCommand

from config.actors import Actor
from jobs.sweeps import expire_due


class Command(BaseCommand):
    help = "Expire offer responses and coupons past their expiry now (the same service as the schedule)."

    def handle(self, *args, **options):
        counts = expire_due(actor=Actor.cli("expire_due"))
        self.stdout.write(f"Expired {counts['offer_responses']} offer responses and {counts['coupons']} coupons.")
