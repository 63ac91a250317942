"""The offers' rules version moves too with a change to an offer's marketing content or to a segment's code.

Each process keeps the member's offers list written out under that version (`offers.member_view_cache`): its
text holds the marketing contents and the codes of the segments an offer requires, which 0007 did not watch
(they decide no award). The same bump, the same kinds of trigger.
"""

import importlib

from django.db import migrations

rules_version = importlib.import_module("offers.migrations.0007_offer_rules_version")

WATCHED = {
    "offers_marketingcontent": "",
    "members_segment": " OF code",
}


def triggers_create(apps, schema_editor):
    rules_version.watch_create(schema_editor, WATCHED)


def triggers_drop(apps, schema_editor):
    rules_version.watch_drop(schema_editor, WATCHED)


class Migration(migrations.Migration):

    dependencies = [
        ("offers", "0008_partitioned_offer_responses"),
        ("members", "0007_member_name_prefix_indexes"),
    ]

    operations = [migrations.RunPython(triggers_create, triggers_drop)]
