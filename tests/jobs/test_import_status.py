"""Admin import jobs change status only through jobs/import_status.py."""

from tests.status_writes import python_files, status_writes


def test_import_job_statuses_change_only_in_import_status():
    paths = python_files("jobs", "config/admin_imports.py", "config/jobs.py")
    assert "jobs/import_status.py" in paths
    assert status_writes(paths, writers={"jobs/import_status.py"}) == []
