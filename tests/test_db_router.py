"""The database router: reads go to the replica only where their caller said they may lag, writes never do."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib import admin
from django.db import DEFAULT_DB_ALIAS, transaction
from django.template.response import TemplateResponse
from django.test import RequestFactory

from config import db_router
from config.db_router import REPLICA, LaggingChangelistAdminMixin, LaggingReadsRouter, reads_may_lag, replica_alias
from exports import services
from members.models import Member

ROOT = Path(__file__).resolve().parents[1]
router = LaggingReadsRouter()


@pytest.fixture
def with_replica(monkeypatch):
    monkeypatch.setattr(db_router, "replica_configured", lambda: True)


def test_db_router_without_a_replica_every_read_goes_to_the_primary():
    assert replica_alias() == DEFAULT_DB_ALIAS
    with reads_may_lag() as alias:
        assert alias == DEFAULT_DB_ALIAS
        assert router.db_for_read(Member) == DEFAULT_DB_ALIAS


@pytest.mark.django_db(transaction=True)
def test_db_router_sends_reads_to_the_replica_only_inside_a_lagging_block(with_replica):
    assert router.db_for_read(Member) is None  # the till, the API, everything else: the primary
    with reads_may_lag() as alias:
        assert alias == REPLICA
        assert router.db_for_read(Member) == REPLICA
        assert router.db_for_write(Member) == DEFAULT_DB_ALIAS
    assert router.db_for_read(Member) is None


@pytest.mark.django_db(transaction=True)
def test_db_router_reads_inside_a_transaction_on_the_primary_stay_there(with_replica):
    with transaction.atomic(), reads_may_lag() as alias:
        assert alias == DEFAULT_DB_ALIAS
        assert router.db_for_read(Member) == DEFAULT_DB_ALIAS


def test_db_router_never_migrates_the_replica_and_relates_rows_read_from_either():
    assert router.allow_migrate(REPLICA, "coupons") is False
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "coupons") is True
    primary_row, replica_row, new_row = Member(), Member(), Member()
    primary_row._state.db, replica_row._state.db = DEFAULT_DB_ALIAS, REPLICA
    assert router.allow_relation(primary_row, replica_row) is True
    assert router.allow_relation(new_row, replica_row) is True


class ChangelistRecorder:
    """Stands in for ModelAdmin: records where the view's reads, and its template's, would go."""

    def __init__(self):
        self.seen = []

    def changelist_view(self, request, extra_context=None):
        self.seen.append(("view", router.db_for_read(Member)))
        response = TemplateResponse(request, "admin/base.html", {})
        response.add_post_render_callback(lambda r: self.seen.append(("render", router.db_for_read(Member))))
        return response


class LaggingChangelist(LaggingChangelistAdminMixin, ChangelistRecorder):
    pass


@pytest.mark.django_db(transaction=True)
def test_db_router_admin_changelists_read_the_replica_and_their_posts_the_primary(with_replica, admin_user):
    page = LaggingChangelist()
    get = RequestFactory().get("/admin/members/member/")
    get.user = admin_user
    page.changelist_view(get)
    assert page.seen == [("view", REPLICA), ("render", REPLICA)]

    page.seen.clear()
    post = RequestFactory().post("/admin/members/member/", {"action": "delete_selected"})
    post.user = admin_user
    page.changelist_view(post).render()
    assert page.seen == [("view", None), ("render", None)]


def test_db_router_the_mixin_fits_a_model_admin():
    class MemberListAdmin(LaggingChangelistAdminMixin, admin.ModelAdmin):
        pass

    assert MemberListAdmin.changelist_view is LaggingChangelistAdminMixin.changelist_view


@pytest.mark.django_db(transaction=True)
def test_db_router_an_export_run_reads_its_rows_through_the_lagging_alias(with_replica, monkeypatch):
    definition = services.export_definition_create(name="All", dataset="members", actor=services.Actor.system())
    run = services.export_run_create(definition=definition, actor=services.Actor.system())
    seen = {}

    def count_rows(dataset, filters, *, using):
        seen["count"] = using
        return 0

    def write_file(*, run, dataset, using):
        seen["rows"] = using
        raise ValueError("stop here")

    monkeypatch.setattr(services.streaming, "count_rows", count_rows)
    monkeypatch.setattr(services, "_write_file", write_file)
    with pytest.raises(ValueError):
        services.export_run_execute(run_id=run.pk, actor=services.Actor.system())
    assert seen == {"count": REPLICA, "rows": REPLICA}
    run.refresh_from_db()
    assert run.status == "failed"  # the outcome itself was written, to the primary


def settings_probe(env_overrides: dict) -> str:
    unset = {"DATABASE_URL", "REPLICA_DATABASE_URL", "DB_PREPARE_THRESHOLD", "DB_TRANSACTION_POOLER"}
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(env_overrides, DJANGO_SETTINGS_MODULE="config.settings.development")
    code = (
        "from django.conf import settings\n"
        "for alias, db in sorted(settings.DATABASES.items()):\n"
        "    print(alias, db['ENGINE'], db['PORT'], db.get('TEST', {}).get('MIRROR'),"
        " db['DISABLE_SERVER_SIDE_CURSORS'], sorted(db['OPTIONS'].items()))\n"
        "print(settings.DATABASE_ROUTERS)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_db_router_settings_add_the_replica_alias_with_the_primary_options():
    primary = {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/offerdesk"}
    assert settings_probe(primary).splitlines()[0].startswith("default config.postgresql 5432 None False")
    lines = settings_probe({**primary, "REPLICA_DATABASE_URL": "postgres://postgres@127.0.0.1:5433/offerdesk"})
    default, replica, routers = lines.splitlines()
    options = "[('prepare_threshold', 5), ('server_side_binding', True)]"
    assert default == f"default config.postgresql 5432 None False {options}"
    assert replica == f"replica config.postgresql 5433 default False {options}"
    assert routers == "['config.db_router.LaggingReadsRouter']"


def test_db_router_settings_behind_a_transaction_pooler_prepare_nothing_and_use_no_named_cursors():
    lines = settings_probe({"DATABASE_URL": "postgres://postgres@127.0.0.1:6432/offerdesk",
                            "REPLICA_DATABASE_URL": "postgres://postgres@127.0.0.1:6433/offerdesk",
                            "DB_TRANSACTION_POOLER": "true"})  # fmt: skip
    for line in lines.splitlines()[:2]:
        assert line.endswith("True [('prepare_threshold', None), ('server_side_binding', True)]"), line
