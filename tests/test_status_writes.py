"""The scanner the lifecycle tests rely on finds each kind of status write, and leaves reads and inserts alone."""

import pytest

from tests.status_writes import status_writes_in_source

WRITES = {
    "an assignment": "def f(job):\n    job.status = 'failed'\n",
    "a tuple assignment": "def f(job, at):\n    job.status, job.at = 'failed', at\n",
    "setattr": "def f(job):\n    setattr(job, 'status', 'failed')\n",
    "update(status=)": "def f():\n    Job.objects.filter(pk=1).update(status='failed')\n",
    "update(**dict literal)": "def f():\n    Job.objects.update(**{'status': 'failed'})\n",
    "update(**a dict built earlier)": "def f():\n    changes = {'error': ''}\n    changes['status'] = 'x'\n"
    "    Job.objects.update(**changes)\n",
    "bulk_update": "def f(jobs):\n    Job.objects.bulk_update(jobs, ['status'])\n",
    "SQL": "SQL = 'UPDATE jobs SET error = %s, status = %s WHERE id = %s'\n",
    "SQL in an f-string": "SQL = f'UPDATE {TABLE} SET status = %s WHERE id = %s'\n",
    "the shared mechanics": "def f():\n    status_swap(rows=rows, old='a', to='b', changes={}, event=None)\n",
}
NOT_WRITES = {
    "a read": "def f():\n    return Job.objects.filter(status='failed').exists()\n",
    "an insert with the first status": "def f():\n    Job.objects.create(status='queued')\n",
    "an HTTP status": "def f():\n    return Response(body, status=201)\n",
    "a filter in SQL": "SQL = 'SELECT id FROM jobs WHERE status = %s'\n",
    "a docstring": 'def f():\n    """One UPDATE jobs SET status = failed per batch."""\n',
    "a comparison": "def f(job):\n    return job.status == 'failed'\n",
}


@pytest.mark.parametrize("source", WRITES.values(), ids=WRITES.keys())
def test_status_writes_in_source_finds_each_kind_of_write(source):
    assert len(status_writes_in_source(source)) == 1


@pytest.mark.parametrize("source", NOT_WRITES.values(), ids=NOT_WRITES.keys())
def test_status_writes_in_source_leaves_reads_and_inserts_alone(source):
    assert status_writes_in_source(source) == []
