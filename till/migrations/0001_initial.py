from django.db import migrations


class Migration(migrations.Migration):
    """The till app's first migration; its sub-domains (checkouts, returns, offline redemptions) follow it."""

    initial = True

    dependencies = [
        ("coupons", "0014_upload_seen_codes_and_revoke_jobs"),
        ("members", "0004_member_email_upper_index"),
        ("offers", "0007_offer_rules_version"),
    ]

    operations = []
