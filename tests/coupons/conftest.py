import pytest
from django.core.files.base import ContentFile

from config.actors import Actor
from coupons.issuance.uploads import upload_create


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Create an upload; its task runs in-process when the transaction commits."""

    def run(series, text, kind="members", actor=None):
        with django_capture_on_commit_callbacks(execute=True):
            file = ContentFile(text.encode(), name="f.csv")
            upload = upload_create(series=series, kind=kind, file=file, actor=actor or Actor.system())
        upload.refresh_from_db()
        return upload

    return run
