"""The admin's sidebar, grouped by the job people come to do rather than by app and model.

Each entry names an admin changelist; an entry whose model is not installed (yet) or that the user may not view
is left out, so the sidebar never breaks on a missing screen and never offers a page that answers 403.
"""

from django.urls import NoReverseMatch, reverse

# (group, [(title, icon, "app_label.model_name")]) in the order the sidebar shows them.
SIDEBAR = (
    (
        "Campaigns",
        (
            ("Offers", "local_offer", "offers.offer"),
            ("Coupon series", "confirmation_number", "coupons.couponseries"),
            ("Coupons", "qr_code_2", "coupons.coupon"),
            ("Offline conflicts", "sync_problem", "till.offlineconflict"),
            ("Rewards", "redeem", "rewards.reward"),
            ("Certificate codes", "key", "rewards.certificatecode"),
            ("Offer responses", "fact_check", "offers.offerresponse"),
        ),
    ),
    (
        "Members",
        (
            ("Members", "person_search", "members.member"),
            ("Segments", "groups", "members.segment"),
            ("Points", "stars", "members.pointsentry"),
        ),
    ),
    (
        "Operations",
        (
            ("Uploads", "upload_file", "coupons.upload"),
            ("Bulk issues", "dynamic_feed", "coupons.bulkissuejob"),
            ("Revokes", "block", "coupons.seriesrevokejob"),
            ("Exports", "download", "exports.exportdefinition"),
            ("Export runs", "history", "exports.exportrun"),
            ("Liability closes", "account_balance", "exports.liabilityclose"),
            ("Imports", "upload", "jobs.importjob"),
            ("Schedules", "schedule", "django_celery_beat.periodictask"),
            ("Checkouts", "shopping_cart_checkout", "till.checkout"),
            ("Audit trail", "policy", "audit.auditevent"),
        ),
    ),
    (
        "Settings",
        (
            ("Stores and org", "storefront", "members.orgentity"),
            ("API clients", "vpn_key", "api.apiclient"),
            ("Exchange rates", "currency_exchange", "coupons.exchangerate"),
            ("Webhook endpoints", "webhook", "webhooks.endpoint"),
        ),
    ),
)


def changelist_url(model_label: str) -> str | None:
    app_label, model_name = model_label.split(".")
    try:
        return reverse(f"admin:{app_label}_{model_name}_changelist")
    except NoReverseMatch:
        return None


def sidebar_navigation(request) -> list[dict]:
    """UNFOLD["SIDEBAR"]["navigation"]: the groups above with the entries this request can open."""
    groups = []
    for group, entries in SIDEBAR:
        items = []
        for title, icon, model_label in entries:
            url = changelist_url(model_label)
            app_label, model_name = model_label.split(".")
            if url is None or not request.user.has_perm(f"{app_label}.view_{model_name}"):
                continue
            items.append({"title": title, "icon": icon, "link": url})
        if items:
            groups.append({"title": group, "separator": True, "collapsible": False, "items": items})
    return groups
