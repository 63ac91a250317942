"""PostgreSQL cursors convert a fixed statement's placeholders once, past psycopg's own limit of 50 parameters
(the till's redemption statement has more): `config.postgresql.queries`."""

import pytest
from django.db import connection
from psycopg import _queries

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def parses(monkeypatch):
    calls = []
    split = _queries._split_query

    def counted(query, *args, **kwargs):
        calls.append(query)
        return split(query, *args, **kwargs)

    monkeypatch.setattr(_queries, "_split_query", counted)
    return calls


@pytest.mark.parametrize("count", [60, 200])
def test_a_fixed_statement_of_many_parameters_is_parsed_once(parses, count):
    sql = f"SELECT {', '.join(['%s::int'] * count)} /* {count} parameters, parsed once */"
    with connection.cursor() as cursor:
        for run in range(3):
            cursor.execute(sql, list(range(run, run + count)))
            assert cursor.fetchone() == tuple(range(run, run + count))
    assert len([query for query in parses if b"parsed once" in query]) == 1


def test_a_statement_of_more_parameters_is_parsed_each_time_as_psycopg_does(parses):
    sql = f"SELECT {', '.join(['%s::int'] * 201)} /* 201 parameters */"
    with connection.cursor() as cursor:
        for _ in range(2):
            cursor.execute(sql, list(range(201)))
    assert len([query for query in parses if b"201 parameters" in query]) == 2
