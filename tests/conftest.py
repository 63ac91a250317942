import pytest
from django.db import connection
from rest_framework.test import APIClient

from config.actors import Actor
from config.api.roles import Role
from config.api.services import api_client_create

ON_POSTGRES = connection.vendor == "postgresql"


def pytest_collection_modifyitems(config, items):
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL=postgres://...)")
    for item in items:
        if not ON_POSTGRES and (item.get_closest_marker("postgres") or item.get_closest_marker("integration")):
            item.add_marker(skip_pg)


@pytest.fixture
def make_api_client(db):
    """An authenticated DRF test client for a new API client of the given role."""
    counter = iter(range(1, 10_000))

    def make(role: str, stores=()):
        client_row, key = api_client_create(
            name=f"{role}-{next(counter)}", role=role, store_codes=[s.code for s in stores], actor=Actor.system("tests")
        )
        http = APIClient()
        http.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        http.api_client = client_row
        http.token = key
        return http

    return make


@pytest.fixture
def store(db):
    from tests.members.factories import OrgEntityFactory

    return OrgEntityFactory(type="store", code="S-MAIN")


@pytest.fixture
def pos(make_api_client, store):
    return make_api_client(Role.POS, stores=[store])


@pytest.fixture
def member_care(make_api_client):
    return make_api_client(Role.MEMBER_CARE)


@pytest.fixture
def marketer(make_api_client):
    return make_api_client(Role.MARKETER)


@pytest.fixture
def anonymous():
    return APIClient()
