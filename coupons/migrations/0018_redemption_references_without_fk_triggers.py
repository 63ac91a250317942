"""A redemption's coupon, series, member and store stop being database foreign keys (docs/scaling.md), and the
coupon's own index goes: the index on (coupon, member, redeemed_at) serves every read by coupon.

The redemption services are the only writers and `PROTECT` still refuses deletes of referenced rows; the four
deferred per-row checks took 1.6 s of the commit of a 100,000-row offline batch. On PostgreSQL the constraints
are dropped where they exist (a partitioned coupon table has none on `coupon_id` already); going back makes
them again, but the coupon's where the coupon table is partitioned (a foreign key cannot point at its id).
"""

import django.db.models.deletion
from django.db import migrations, models

from config.partitioning import is_partitioned

FIELDS = ("coupon", "series", "member", "store")


def references_drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    model = apps.get_model("coupons", "CouponRedemption")
    for name in FIELDS:
        column = model._meta.get_field(name).column
        for constraint in schema_editor._constraint_names(model, [column], foreign_key=True):
            schema_editor.execute(schema_editor._delete_fk_sql(model, constraint))
    for index in schema_editor._constraint_names(model, ["coupon_id"], index=True, primary_key=False):
        schema_editor.execute(schema_editor._delete_index_sql(model, index))


def references_make(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    model = apps.get_model("coupons", "CouponRedemption")
    with schema_editor.connection.cursor() as cursor:
        coupons_partitioned = is_partitioned(cursor, "coupons_coupon")
    coupon = model._meta.get_field("coupon")
    if not schema_editor._constraint_names(model, [coupon.column], index=True, primary_key=False):
        schema_editor.execute(schema_editor._create_index_sql(model, fields=[coupon]))
    for name in FIELDS:
        field = model._meta.get_field(name)
        if name == "coupon" and coupons_partitioned:
            continue
        if not schema_editor._constraint_names(model, [field.column], foreign_key=True):
            schema_editor.execute(schema_editor._create_fk_sql(model, field, "_fk_%(to_table)s_%(to_column)s"))


def _reference(to, related_name, **options):
    return models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.PROTECT,
                             related_name=related_name, to=to, **options)  # fmt: skip


class Migration(migrations.Migration):
    dependencies = [
        ("coupons", "0017_partitioned_coupons"),
        ("members", "0007_member_name_prefix_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(references_drop, references_make)],
            state_operations=[
                migrations.AlterField("couponredemption", "coupon", _reference("coupons.coupon", "redemptions", db_index=False)),
                migrations.AlterField("couponredemption", "member", _reference("members.member", "+")),
                migrations.AlterField("couponredemption", "series", _reference("coupons.couponseries", "redemptions")),
                migrations.AlterField("couponredemption", "store", _reference("members.orgentity", "+")),
            ],
        ),
    ]
