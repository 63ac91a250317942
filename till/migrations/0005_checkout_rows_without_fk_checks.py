"""A checkout's holds and events stop being database foreign keys to it, the holds lose two indexes no read uses,
and a checkout's JSON compresses with lz4 on PostgreSQL.

Holds and events are written only with their checkout (its statement, or its transaction), by
`till.checkouts`; the deferred checks cost every opening and commit a trigger per row. A hold's coupon index
duplicates the head of (coupon, held_at); every read by offer response asks for open holds, which the partial
unique index holds. lz4 compresses the basket, its evaluation and the commit's answer (several kB each, above
the TOAST threshold) in about two thirds of the time pglz takes; values written before keep pglz.
"""

import django.db.models.deletion
from django.db import migrations, models

JSON_COLUMNS = ("basket", "evaluation", "committed_body")


def _compression_set(schema_editor, method):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
        row = cursor.fetchone()
    if method == "lz4" and not (row and row[0]):
        return  # a server built without lz4 keeps pglz
    for column in JSON_COLUMNS:
        schema_editor.execute(f'ALTER TABLE till_checkout ALTER COLUMN "{column}" SET COMPRESSION {method}')


def response_index_drop(apps, schema_editor):
    model = apps.get_model("till", "CheckoutHold")
    names = schema_editor._constraint_names(model, ["offer_response_id"], index=True, unique=False, primary_key=False)
    for name in names:
        schema_editor.execute(schema_editor._delete_index_sql(model, name))


def response_index_make(apps, schema_editor):
    model = apps.get_model("till", "CheckoutHold")
    if not schema_editor._constraint_names(model, ["offer_response_id"], index=True, unique=False, primary_key=False):
        schema_editor.execute(schema_editor._create_index_sql(model, fields=[model._meta.get_field("offer_response")]))


def lz4_compression(apps, schema_editor):
    _compression_set(schema_editor, "lz4")


def default_compression(apps, schema_editor):
    _compression_set(schema_editor, "default")


class Migration(migrations.Migration):

    dependencies = [
        ('coupons', '0018_redemption_references_without_fk_triggers'),
        ('offers', '0008_partitioned_offer_responses'),
        ('till', '0004_offline_chunks'),
    ]

    operations = [
        migrations.AlterField(
            model_name='checkoutevent',
            name='checkout',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name='events', to='till.checkout'),
        ),
        migrations.AlterField(
            model_name='checkouthold',
            name='checkout',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name='holds', to='till.checkout'),
        ),
        migrations.AlterField(
            model_name='checkouthold',
            name='coupon',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='coupons.coupon'),
        ),
        # By hand: AlterField would drop every index on the column, the partial unique one included.
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(response_index_drop, response_index_make)],
            state_operations=[
                migrations.AlterField(
                    model_name='checkouthold',
                    name='offer_response',
                    field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='offers.offerresponse'),
                ),
            ],
        ),
        migrations.RunPython(lz4_compression, default_compression),
    ]
