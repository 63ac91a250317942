"""Uploads on PostgreSQL leave each chunk's issued events to a connection of their own, beside the next chunk: every
coupon still gets one `issued` event and one `coupon.issued` outbox event, and a worker lost between a chunk's commit
and its events leaves them to the upload's next attempt, which writes them once."""

import contextlib
import threading

import pytest
from django.core.files.base import ContentFile

from coupons.issuance import uploads
from coupons.issuance.uploads import upload_process
from coupons.models import Coupon, CouponEvent, Upload, UploadEventsPending
from tests.coupons.factories import CouponSeriesFactory
from tests.members.factories import MemberFactory
from webhooks import events
from webhooks.models import Event

# Committed rows: the other connections see only what is committed.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


class WorkerLost(BaseException):
    pass


def events_of(series):
    """(coupon ids, their `issued` events' coupon ids, their outbox events' object ids), each sorted."""
    ids = sorted(Coupon.objects.filter(series=series, member__isnull=False).values_list("pk", flat=True))
    issued = CouponEvent.objects.filter(coupon_id__in=ids, new_status="issued", old_status="")
    outbox = Event.objects.filter(type=events.COUPON_ISSUED, object_id__in=[str(pk) for pk in ids])
    return (
        ids,
        sorted(issued.values_list("coupon_id", flat=True)),
        sorted(int(pk) for pk in outbox.values_list("object_id", flat=True)),
    )


def new_upload(series, text, kind="members"):
    file = ContentFile(text.encode(), name="f.csv")
    return Upload.objects.create(series=series, kind=kind, file=file, actor="test", channel="system")


def test_events_are_written_beside_the_chunks_once_each(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.UPLOAD_CHUNK_ROWS = 3
    written_on = set()
    write = uploads.upload_events_pending_write

    def write_noting_thread(**kwargs):
        written_on.add(threading.current_thread().name)
        return write(**kwargs)

    monkeypatch.setattr(uploads, "upload_events_pending_write", write_noting_thread)
    series = CouponSeriesFactory(max_per_member=1, min_gap_days=None, series_limit=None)
    members = MemberFactory.create_batch(8)
    text = "user_id\n" + "".join(f"{m.user_id}\n" for m in [*members, members[0]])

    upload = upload_process(upload_id=new_upload(series, text).pk)

    assert (upload.status, upload.succeeded, upload.failed) == ("succeeded", 8, 1)
    ids, issued, outbox = events_of(series)
    assert len(ids) == 8
    assert issued == outbox == ids  # once each, and none for the refused ninth row
    assert "upload-events" in written_on  # the chunks' events went to the events connection
    assert not UploadEventsPending.objects.exists()
    event = CouponEvent.objects.get(coupon_id=ids[0])
    assert (event.actor, event.channel, event.reason) == ("test", "system", "issued")


def test_codes_with_members_get_their_events_beside_the_chunks(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.UPLOAD_CHUNK_ROWS = 2
    series = CouponSeriesFactory(uploaded=True, max_per_member=None, min_gap_days=None, series_limit=None)
    members = MemberFactory.create_batch(5)
    text = "code,external_id\n" + "".join(f"UP-{n:03d},{m.external_id}\n" for n, m in enumerate(members))
    text += "UP-900,\n"  # kept unissued: no events

    upload = upload_process(upload_id=new_upload(series, text, "codes").pk)

    assert (upload.status, upload.succeeded, upload.failed) == ("succeeded", 6, 0)
    ids, issued, outbox = events_of(series)
    assert len(ids) == 5
    assert issued == outbox == ids
    assert not UploadEventsPending.objects.exists()


def lost_after_its_chunks(series, text, monkeypatch):
    """An upload whose worker died after committing every chunk, before any chunk's events were written."""

    @contextlib.contextmanager
    def lost_after_the_chunks(upload, actor, *, in_thread):
        yield lambda pending: None  # the events connection never wrote them
        raise WorkerLost  # and the worker died before its own connection could

    monkeypatch.setattr(uploads, "_events_beside", lost_after_the_chunks)
    upload = new_upload(series, text)
    with pytest.raises(WorkerLost):
        upload_process(upload_id=upload.pk)
    monkeypatch.undo()
    upload.refresh_from_db()
    return upload


def test_a_worker_lost_before_its_chunks_events_leaves_them_to_the_next_attempt(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.UPLOAD_CHUNK_ROWS = 3
    series = CouponSeriesFactory(max_per_member=5, min_gap_days=None, series_limit=None)
    members = MemberFactory.create_batch(7)
    text = "user_id\n" + "".join(f"{m.user_id}\n" for m in members)
    upload = lost_after_its_chunks(series, text, monkeypatch)
    assert (upload.status, upload.processed_rows) == ("running", 7)  # every chunk committed
    # A chunk whose coupons' ids are not the range it filled (the first, after other tests' ids) wrote its own.
    pending = UploadEventsPending.objects.filter(upload=upload)
    left = sorted(pk for p in pending for pk in range(p.after_id + 1, p.through_id + 1))
    ids, issued, outbox = events_of(series)
    assert left and sorted(set(ids) - set(issued)) == sorted(set(ids) - set(outbox)) == left

    upload = upload_process(upload_id=upload.pk)  # the next attempt (a reaper's resume)

    assert (upload.status, upload.attempts, upload.succeeded) == ("succeeded", 2, 7)
    ids, issued, outbox = events_of(series)
    assert len(ids) == 7  # no row issued twice
    assert issued == outbox == ids  # and each coupon's events written once
    assert not UploadEventsPending.objects.exists()


def test_an_upload_failed_for_good_keeps_the_events_of_the_chunks_it_committed(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.UPLOAD_CHUNK_ROWS = 2
    series = CouponSeriesFactory(max_per_member=5, min_gap_days=None, series_limit=None)
    members = MemberFactory.create_batch(5)
    upload = lost_after_its_chunks(series, "user_id\n" + "".join(f"{m.user_id}\n" for m in members), monkeypatch)
    assert UploadEventsPending.objects.filter(upload=upload).exists()
    settings.JOBS_MAX_ATTEMPTS = 1

    upload = upload_process(upload_id=upload.pk)  # attempts spent: it fails, its coupons stay issued

    assert (upload.status, upload.succeeded) == ("failed", 5)
    ids, issued, outbox = events_of(series)
    assert len(ids) == 5
    assert issued == outbox == ids
    assert not UploadEventsPending.objects.exists()
