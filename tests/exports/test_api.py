import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_celery_beat.models import PeriodicTask

from config.actors import Actor
from exports import datasets, services
from exports.models import ExportDefinition, ExportRun
from exports.schedules import SCHEDULED_TASK
from tests.exports.factories import ExportDefinitionFactory
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db

DEFINITIONS = "/api/v1/export-definitions"


def body(**overrides):
    data = {"name": "Active members", "dataset": "members", "filters": {"status": "active"},
            "columns": ["external_id", "email"], "format": "csv", "schedule": None}  # fmt: skip
    data.update(overrides)
    return data


def test_export_definition_create_by_marketer_answers_201(marketer):
    response = marketer.post(DEFINITIONS, body(schedule="0 6 * * *"), format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["dataset"] == "members" and data["columns"] == ["external_id", "email"]
    assert data["schedule"] == "0 6 * * *"
    assert PeriodicTask.objects.get(task=SCHEDULED_TASK).kwargs == f'{{"definition_id": {data["id"]}}}'


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"columns": ["external_id", "nope"]}, "unknown_column"),
        ({"filters": {"nope": 1}}, "unknown_filter"),
        ({"schedule": "* * *"}, "invalid_schedule"),
        ({"dataset": "certificate_codes"}, "dataset_not_available"),
        ({"dataset": "weather"}, "invalid"),
        ({"format": "xlsx"}, "invalid"),
        ({"columns": "external_id"}, "invalid"),
    ],
)
def test_export_definition_create_with_bad_input_answers_400(marketer, overrides, code, monkeypatch):
    if code == "dataset_not_available":  # a contract dataset whose app has not registered it
        monkeypatch.delitem(datasets._registry, overrides["dataset"], raising=False)
    response = marketer.post(DEFINITIONS, body(**overrides), format="json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert not ExportDefinition.objects.exists()


@pytest.mark.parametrize("role", ["pos", "member_care"])
def test_export_definitions_are_for_marketers_only(request, role):
    client = request.getfixturevalue(role)
    definition = ExportDefinitionFactory()
    assert client.post(DEFINITIONS, body(), format="json").status_code == 403
    assert client.get(DEFINITIONS).status_code == 403
    assert client.post(f"{DEFINITIONS}/{definition.pk}/run").status_code == 403


def test_export_definition_calls_without_a_token_answer_401(anonymous):
    assert anonymous.get(DEFINITIONS).status_code == 401


def test_export_definition_list_and_detail(marketer):
    definitions = ExportDefinitionFactory.create_batch(3)
    with CaptureQueriesContext(connection) as queries:
        response = marketer.get(DEFINITIONS)
    assert response.status_code == 200 and response.json()["count"] == 3
    few = len(queries)
    ExportDefinitionFactory.create_batch(5)
    with CaptureQueriesContext(connection) as queries:
        marketer.get(DEFINITIONS)
    assert len(queries) == few
    assert marketer.get(f"{DEFINITIONS}/{definitions[0].pk}").json()["name"] == definitions[0].name
    assert marketer.get(f"{DEFINITIONS}/999999").status_code == 404


def test_export_definition_patch_validates_and_syncs_the_schedule(marketer):
    definition = ExportDefinitionFactory()
    response = marketer.patch(f"{DEFINITIONS}/{definition.pk}", {"schedule": "5 1 * * *"}, format="json")
    assert response.status_code == 200
    assert PeriodicTask.objects.get(task=SCHEDULED_TASK).crontab.minute == "5"
    assert marketer.patch(f"{DEFINITIONS}/{definition.pk}", {"columns": ["x"]}, format="json").status_code == 400


def test_export_definition_delete_answers_204(marketer):
    definition = ExportDefinitionFactory()
    assert marketer.delete(f"{DEFINITIONS}/{definition.pk}").status_code == 204
    assert not ExportDefinition.objects.exists()


def test_export_run_end_to_end_over_the_api(marketer, member_care, pos, django_capture_on_commit_callbacks):
    MemberFactory(external_id="M-1")
    MemberFactory(external_id="M-2", inactive=True)
    definition = ExportDefinitionFactory(filters={"status": "active"}, columns=["external_id", "status"])

    with django_capture_on_commit_callbacks(execute=True):
        response = marketer.post(f"{DEFINITIONS}/{definition.pk}/run")
    assert response.status_code == 202
    run_id = response.json()["id"]

    assert pos.get(f"/api/v1/export-runs/{run_id}").status_code == 403  # a till never reads exports
    assert pos.get(f"/api/v1/export-runs/{run_id}/file").status_code == 403
    run = member_care.get(f"/api/v1/export-runs/{run_id}").json()
    assert run["status"] == "succeeded" and run["rows"] == 1 and run["error"] == ""
    assert run["file_url"].endswith(f"/api/v1/export-runs/{run_id}/file")

    download = member_care.get(run["file_url"])
    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/csv")
    assert b"".join(download.streaming_content).decode() == "external_id,status\nM-1,active\n"


def test_export_run_file_needs_a_token_and_a_finished_run(marketer, anonymous):
    definition = ExportDefinitionFactory()
    run = services.export_run_create(definition=definition, actor=Actor.system())
    assert anonymous.get(f"/api/v1/export-runs/{run.pk}/file").status_code == 401
    response = marketer.get(f"/api/v1/export-runs/{run.pk}/file")
    assert response.status_code == 409 and response.json()["code"] == "export_file_not_ready"
    assert marketer.get(f"/api/v1/export-runs/{run.pk}").json()["file_url"] is None


def test_export_run_of_an_inactive_definition_answers_409(marketer):
    definition = ExportDefinitionFactory(active=False)
    response = marketer.post(f"{DEFINITIONS}/{definition.pk}/run")
    assert response.status_code == 409 and response.json()["code"] == "export_definition_inactive"


def test_export_run_unknown_ids_answer_404(marketer, member_care):
    assert marketer.post(f"{DEFINITIONS}/999999/run").status_code == 404
    assert member_care.get("/api/v1/export-runs/999999").status_code == 404
    assert member_care.get("/api/v1/export-runs/999999/file").status_code == 404


def test_export_run_list_filters_by_definition_without_n_plus_one(member_care):
    first, second = ExportDefinitionFactory(), ExportDefinitionFactory()
    for _ in range(3):
        services.export_run_create(definition=first, actor=Actor.system())
    services.export_run_create(definition=second, actor=Actor.system())
    with CaptureQueriesContext(connection) as queries:
        response = member_care.get("/api/v1/export-runs", {"definition": first.pk})
    assert response.json()["count"] == 3
    few = len(queries)
    for _ in range(4):
        services.export_run_create(definition=first, actor=Actor.system())
    with CaptureQueriesContext(connection) as queries:
        member_care.get("/api/v1/export-runs", {"definition": first.pk})
    assert len(queries) == few
    assert ExportRun.objects.count() == 8


def test_api_schema_stays_valid(client):
    assert client.get("/api/schema/").status_code == 200


def test_export_definition_run_with_an_idempotency_key_starts_one_run(marketer):
    definition = ExportDefinitionFactory()
    first = marketer.post(f"{DEFINITIONS}/{definition.pk}/run", HTTP_IDEMPOTENCY_KEY="run-1")
    again = marketer.post(f"{DEFINITIONS}/{definition.pk}/run", HTTP_IDEMPOTENCY_KEY="run-1")
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    assert ExportRun.objects.count() == 1
