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


def _schema():
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def test_schema_types_the_answers_as_they_are_sent():
    schemas = _schema()["components"]["schemas"]
    assert schemas["CertificateCodeOutput"]["properties"]["member"]["nullable"] is True
    assert schemas["OrgEntityOutput"]["properties"]["concept"]["nullable"] is True
    assert schemas["OrgEntityOutput"]["properties"]["parent"]["nullable"] is True
    # A membership-offer is the offer's fields and the member's, in one object (no nested `offer`).
    membership = schemas["MembershipOfferOutput"]
    assert "offer" not in membership["properties"]
    assert {"id", "name", "limits", "member", "visible_status", "eligible", "fulfillment_count"} <= set(
        membership["required"]
    )
    limit = schemas["Limit"]
    assert "used_count" in limit["required"] and limit["properties"]["used_count"]["nullable"] is True


def test_every_operation_documents_its_problem_answers():
    schema = _schema()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            problem = operation["responses"]["4XX"]["content"]["application/problem+json"]["schema"]
            assert problem == {"$ref": "#/components/schemas/Problem"}, (method, path)


def test_a_member_limit_answers_used_count_null(marketer):
    from tests.offers.factories import LimitFactory, OfferFactory

    offer = OfferFactory()
    LimitFactory(offer=offer, scope="member", kind="fulfillment", max_count=2)
    body = marketer.get(f"/api/v1/offers/{offer.pk}").json()
    assert body["limits"] == [{"scope": "member", "kind": "fulfillment", "max_count": 2, "used_count": None}]
