import pytest

pytestmark = pytest.mark.django_db


def test_schema_lists_the_coupon_paths(admin_client):
    response = admin_client.get("/api/schema/?format=json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ["/api/v1/coupon-series", "/api/v1/coupon-series/{id}", "/api/v1/coupon-series/{id}/issue",
                 "/api/v1/coupon-series/{id}/uploads", "/api/v1/coupons/{code}", "/api/v1/uploads/{id}",
                 "/api/v1/members/{external_id}/coupons"]:  # fmt: skip
        assert path in paths
