import importlib

from django.conf import settings
from django.core.management.base import BaseCommand

from config.actors import Actor

# Order matters: offers need members and stores, coupons and rewards need offers and members.
DEMO_APPS = ["members", "offers", "rewards", "coupons", "exports"]


class Command(BaseCommand):
    help = "Load demo data (idempotent): each app's demo.seed(), in dependency order."

    def handle(self, *args, **options):
        actor = Actor.cli("seed_demo")
        for app in DEMO_APPS:
            if app not in settings.INSTALLED_APPS:
                continue
            try:
                module = importlib.import_module(f"{app}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{app}.demo":
                    raise
                continue
            module.seed(stdout=self.stdout, actor=actor)
