import shutil

import pytest
from django.conf import settings


@pytest.fixture(autouse=True)
def media_root(tmp_path):
    """Each test writes its export files to a folder of its own."""
    root = tmp_path / "media"
    root.mkdir()
    from django.core.files.storage import default_storage

    saved = settings.MEDIA_ROOT
    settings.MEDIA_ROOT = str(root)
    default_storage.__dict__.pop("base_location", None)
    default_storage.__dict__.pop("location", None)
    yield root
    settings.MEDIA_ROOT = saved
    default_storage.__dict__.pop("base_location", None)
    default_storage.__dict__.pop("location", None)
    shutil.rmtree(root, ignore_errors=True)
