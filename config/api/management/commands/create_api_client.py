from django.core.management.base import BaseCommand, CommandError

from config.actors import Actor
from config.api.roles import Role
from config.api.services import api_client_create
from config.errors import DomainError


class Command(BaseCommand):
    help = "Create an API client and print its token (alone, on the last line)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument(
            "--store",
            action="append",
            default=[],
            dest="stores",
            metavar="CODE",
            help="A store the client may act for (POS clients; repeat for several).",
        )

    def handle(self, *args, name, role, stores, **options):
        try:
            client, key = api_client_create(
                name=name, role=role, store_codes=stores, actor=Actor.cli("create_api_client")
            )
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        scope = f" for stores {', '.join(stores)}" if stores else ""
        self.stdout.write(f"Created API client {client.name!r} with role {client.role}{scope}. Token:")
        self.stdout.write(key)
