import django.db.models.deletion
from django.db import migrations, models

BRIN_NAME = "api_idempotency_created_brin"


def create_created_brin(apps, schema_editor):
    # BRIN is PostgreSQL's; elsewhere the purge reads the table, which is small there.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {BRIN_NAME} ON api_idempotencyrecord USING brin (created_at)")


def drop_created_brin(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {BRIN_NAME}")


class Migration(migrations.Migration):

    dependencies = [
        ("api", "0003_idempotency_answer_with_the_key"),
    ]

    operations = [
        migrations.AlterField(
            model_name="idempotencyrecord",
            name="client",
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                    related_name="idempotency_records", to="api.apiclient"),
        ),
        migrations.AlterField(
            model_name="idempotencyrecord",
            name="created_at",
            field=models.DateTimeField(auto_now_add=True),
        ),
        migrations.RunPython(create_created_brin, drop_created_brin),
    ]
