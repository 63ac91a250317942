"""Driving an admin list's Import page in tests: the POST that queues the review, and the job's pages after it.

The tests settings run Celery tasks in-process (CELERY_TASK_ALWAYS_EAGER); a task queued on commit runs when the
test lets the on-commit callbacks run, as a worker would pick it up once the request's transaction committed.
"""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from jobs.models import ImportJob


def csv_format_index(client, import_url: str) -> str:
    form = client.get(import_url).context["form"]
    return next(value for value, label in form.fields["format"].choices if str(label).lower() == "csv")


def import_post(client, import_url_name: str, content, *, name: str = "file.csv"):
    """The Import page's POST, as the browser sends it; the job it queues has not run."""
    url = reverse(import_url_name)
    data = content.encode() if isinstance(content, str) else content
    return client.post(url, {"format": csv_format_index(client, url),
                             "import_file": SimpleUploadedFile(name, data, "text/csv")})  # fmt: skip


def job_of(response) -> ImportJob:
    """The job a response redirects to (its page's address ends in <pk>/change/)."""
    assert response.status_code == 302, response.status_code
    return ImportJob.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-2]))


def import_review(client, capture, import_url_name: str, content, **kwargs) -> ImportJob:
    """Post the file and let its review run; the finished review job."""
    with capture(execute=True):
        response = import_post(client, import_url_name, content, **kwargs)
    job = job_of(response)
    job.refresh_from_db()
    return job


def import_confirm(client, capture, review: ImportJob) -> ImportJob:
    """Press "Confirm import" on a review's page and let the import run; the finished import job."""
    with capture(execute=True):
        response = client.post(reverse("admin:jobs_importjob_confirm", args=[review.pk]))
    job = job_of(response)
    job.refresh_from_db()
    return job


def job_page(client, job: ImportJob) -> str:
    return client.get(reverse("admin:jobs_importjob_change", args=[job.pk])).content.decode()
