"""Demo export definitions: a full member list to run by hand and a nightly active-member export."""

from config.actors import Actor
from exports.models import ExportDefinition
from exports.services import export_definition_create

DEMO_DEFINITIONS = [
    {"name": "All members", "dataset": "members", "columns": [], "filters": {}, "schedule": ""},
    {
        "name": "Active VIP members (nightly)",
        "dataset": "members",
        "columns": ["external_id", "email", "first_name", "last_name", "points_balance", "segments"],
        "filters": {"status": "active", "segment": "vip"},
        "schedule": "0 2 * * *",
        "destination": "exports/nightly",
    },
]


def seed(*, stdout, actor: Actor) -> None:
    created = 0
    for values in DEMO_DEFINITIONS:
        if ExportDefinition.objects.filter(name=values["name"]).exists():
            continue
        export_definition_create(**values, actor=actor)
        created += 1
    stdout.write(f"exports: {created} export definitions created" if created else "exports: demo data present, skipped")
