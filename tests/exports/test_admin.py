import pytest
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from config.actors import Actor
from exports import services
from exports.models import ExportDefinition, ExportRun
from exports.schedules import SCHEDULED_TASK
from tests.exports.factories import ExportDefinitionFactory, ExportRunFactory
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


def form_data(**overrides):
    data = {"name": "Nightly members", "dataset": "members", "columns": "external_id, email", "filters": "{}",
            "format": "csv", "schedule": "0 2 * * *", "destination": "exports", "active": "on"}  # fmt: skip
    data.update(overrides)
    return data


def test_definition_admin_add_creates_the_definition_and_its_beat_task(admin_client):
    response = admin_client.post(reverse("admin:exports_exportdefinition_add"), form_data())
    assert response.status_code == 302, response.content.decode()[:2000]
    definition = ExportDefinition.objects.get()
    assert definition.columns == ["external_id", "email"]
    assert definition.periodic_task == PeriodicTask.objects.get(task=SCHEDULED_TASK)


def test_definition_admin_shows_unknown_columns_and_bad_cron_on_the_form(admin_client):
    response = admin_client.post(
        reverse("admin:exports_exportdefinition_add"),
        form_data(columns="external_id, shoe_size", schedule="0 99 * * *"),
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "shoe_size" in str(errors["columns"]) and "schedule" in errors
    assert not ExportDefinition.objects.exists()


def test_definition_admin_change_updates_the_schedule(admin_client):
    definition = services.export_definition_create(name="D", dataset="members", schedule="0 2 * * *",
                                                   actor=Actor.system())  # fmt: skip
    url = reverse("admin:exports_exportdefinition_change", args=[definition.pk])
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, form_data(name="D", schedule=""))
    assert response.status_code == 302
    assert not PeriodicTask.objects.filter(task=SCHEDULED_TASK).exists()


def test_definition_admin_run_now_starts_a_run(admin_client, django_capture_on_commit_callbacks):
    MemberFactory.create_batch(3)
    definition = ExportDefinitionFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:exports_exportdefinition_changelist"),
            {"action": "run_now", "_selected_action": [definition.pk]},
            follow=True,
        )
    assert "queued" in response.content.decode()
    run = ExportRun.objects.get()
    assert run.status == "succeeded" and run.rows == 3 and run.channel == "admin"


def test_run_admin_list_and_page_show_progress_bars_polling_the_progress_endpoint(admin_client):
    run = ExportRunFactory(running=True, progress_done=40, progress_total=100)
    progress_url = reverse("admin:exports_exportrun_progress", args=[run.pk])

    listing = admin_client.get(reverse("admin:exports_exportrun_changelist")).content.decode()
    page = admin_client.get(reverse("admin:exports_exportrun_change", args=[run.pk])).content.decode()

    for html in (listing, page):
        assert f'data-poll-url="{progress_url}"' in html
        assert 'data-finished="false"' in html
        assert 'max="100" value="40"' in html
        assert "offerdesk/job_progress.js" in html
    progress = admin_client.get(progress_url).json()
    assert progress | {"status_label": None} == {"status": "running", "status_label": None, "done": 40, "total": 100,
                                                 "finished": False, "rows": None, "error": "",
                                                 "duration_seconds": None}  # fmt: skip


def test_run_admin_download_streams_the_file(admin_client):
    MemberFactory(external_id="M-1")
    run = services.export_run_create(definition=ExportDefinitionFactory(columns=["external_id"]), actor=Actor.system())
    services.export_run_execute(run_id=run.pk, actor=Actor.system())
    response = admin_client.get(reverse("admin:exports_exportrun_download", args=[run.pk]))
    assert b"".join(response.streaming_content) == b"external_id\nM-1\n"


def test_run_admin_progress_needs_staff(client):
    run = services.export_run_create(definition=ExportDefinitionFactory(), actor=Actor.system())
    response = client.get(reverse("admin:exports_exportrun_progress", args=[run.pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_definition_admin_list_and_add_pages_list_the_datasets_columns_and_filters(admin_client):
    services.export_definition_create(name="Nightly", dataset="members", schedule="0 2 * * *", actor=Actor.system())
    listing = admin_client.get(reverse("admin:exports_exportdefinition_changelist")).content.decode()
    assert "Nightly" in listing and "0 2 * * *" in listing
    add = admin_client.get(reverse("admin:exports_exportdefinition_add")).content.decode()
    assert "members: external_id, email" in add and "registered_from" in add
    assert '<option value="coupons">' in add  # contract datasets are offered; unregistered ones fail validation


def test_job_progress_include_is_generic_and_shows_an_unknown_total_as_indeterminate():
    from django.template.loader import render_to_string

    html = render_to_string(
        "admin/includes/job_progress.html",
        {"status": "processing", "done": 7, "total": None, "finished": False, "poll_url": "/admin/uploads/1/progress/"},
    )
    assert 'data-poll-url="/admin/uploads/1/progress/"' in html and 'data-finished="false"' in html
    assert '<progress class="job-progress-bar" ></progress>' in html.replace("\n", "")
    assert "processing" in html and ">7<" in html
    done = render_to_string("admin/includes/job_progress.html", {"status": "done", "done": 0, "total": 0,
                                                                 "finished": True})  # fmt: skip
    assert 'data-finished="true"' in done and 'max="1" value="1"' in done


def test_definition_admin_run_now_button_starts_a_run_and_opens_it(admin_client, django_capture_on_commit_callbacks):
    MemberFactory.create_batch(2)
    definition = ExportDefinitionFactory()
    page = admin_client.get(reverse("admin:exports_exportdefinition_change", args=[definition.pk])).content.decode()
    run_url = reverse("admin:exports_exportdefinition_run", args=[definition.pk])
    assert f'action="{run_url}"' in page

    assert admin_client.get(run_url).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(run_url)
    run = ExportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:exports_exportrun_change", args=[run.pk])
    run.refresh_from_db()
    assert run.status == "succeeded" and run.rows == 2
