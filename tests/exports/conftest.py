import pytest


@pytest.fixture(autouse=True)
def media_root(tmp_path, settings):
    """Each test writes its export files to a folder of its own (the storage follows setting_changed)."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root
