from django.core.management import call_command


def test_openapi_schema_validates_without_warnings(tmp_path):
    """Every view documents itself and no two choice sets collide in the schema (clients generate from it)."""
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = target.read_text()
    for path in (
        "/api/v1/members/{external_id}/offers/{offer_id}/activate:",
        "/api/v1/coupon-series/{id}/issue:",
        "/api/v1/export-definitions/{id}/run:",
        "/api/v1/members/{external_id}/rewards/{reward_id}/redeem:",
    ):
        assert path in schema
