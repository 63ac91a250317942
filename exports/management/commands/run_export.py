from django.core.management.base import BaseCommand, CommandError

from config.actors import Actor
from config.errors import DomainError
from exports import services
from exports.models import ExportDefinition, ExportRun


class Command(BaseCommand):
    help = "Run an export definition now, in this process (the same services as its schedule), and report it."

    def add_arguments(self, parser):
        parser.add_argument("definition_id", type=int)

    def handle(self, *args, definition_id, **options):
        definition = ExportDefinition.objects.filter(pk=definition_id).first()
        if definition is None:
            raise CommandError(f"No export definition {definition_id}.")
        actor = Actor.cli("run_export")
        try:
            run = services.export_run_create(definition=definition, actor=actor)
            run = services.export_run_execute(run_id=run.pk, actor=actor)
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        if run.status != ExportRun.Status.SUCCEEDED:
            raise CommandError(f"Export run {run.pk} of {definition.name!r} failed: {run.error}")
        seconds = run.duration.total_seconds() if run.duration else 0.0
        self.stdout.write(
            f"Export run {run.pk} of {definition.name!r}: {run.rows} rows written to {run.file.name} in {seconds:.2f} s"
        )
