import pytest


@pytest.fixture
def open_checkout(pos):
    """Opens a checkout of a basket body over the POS's API (expecting 201) and gives its body."""

    def open_(body, transaction_id="T-1"):
        response = pos.post("/api/v1/checkouts", {**body, "transaction_id": transaction_id}, format="json")
        assert response.status_code == 201, response.json()
        return response.json()

    return open_


@pytest.fixture
def commit(pos):
    """Commits a checkout over the POS's API and gives the response, whatever its status."""

    def commit_(checkout_id, **headers):
        return pos.post(f"/api/v1/checkouts/{checkout_id}/commit", format="json", headers=headers)

    return commit_
