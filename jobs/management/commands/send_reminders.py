from django.core.management.base import BaseCommand

from config.actors import Actor
from coupons.notify.reminders import reminders_send_due


class Command(BaseCommand):
    help = "Send the coupon expiry reminders that are due now (the same service as the schedule)."

    def handle(self, *args, **options):
        result = reminders_send_due(actor=Actor.cli("send_reminders"))
        self.stdout.write(
            f"Reminders: {result.claimed} due, {result.sent} sent, {result.failed} failed, "
            f"{result.skipped} skipped (no address)."
        )
