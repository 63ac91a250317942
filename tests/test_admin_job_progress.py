"""A job's progress bar: a failed job shows its state and no bar, a finished one never the moving bar."""

from django.template.loader import render_to_string


def progress_html(**state):
    return render_to_string("admin/includes/job_progress.html", {"poll_url": "/p/", **state})


def test_failed_job_of_unknown_total_shows_no_bar():
    html = progress_html(status="failed", status_label="Failed", done=0, total=None, finished=True, error="bad file")
    assert "<progress" in html and " hidden" in html.split("<progress", 1)[1].split(">", 1)[0]
    assert "Failed" in html and "bad file" in html


def test_succeeded_job_of_unknown_total_shows_a_full_bar():
    bar = progress_html(status="succeeded", done=5, total=None, finished=True).split("<progress", 1)[1].split(">")[0]
    assert 'max="1" value="1"' in bar and "hidden" not in bar


def test_running_job_of_unknown_total_keeps_the_indeterminate_bar():
    bar = progress_html(status="running", done=5, total=None, finished=False).split("<progress", 1)[1].split(">")[0]
    assert "value=" not in bar and "hidden" not in bar
