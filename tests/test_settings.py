import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def settings_probe(env_overrides, module="config.settings.development"):
    """Import the settings in a fresh interpreter with only the given environment."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"}
    }
    env.update(env_overrides)
    env["DJANGO_SETTINGS_MODULE"] = module
    code = (
        "import django; from django.conf import settings; django.setup();"
        "print(settings.DATABASES['default']['ENGINE'], settings.DEBUG, settings.CELERY_TASK_ALWAYS_EAGER,"
        " settings.CELERY_BROKER_URL)"
    )
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)


def test_settings_default_to_sqlite_debug_and_in_process_tasks():
    result = settings_probe({})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "True", "True", "memory://"]


def test_settings_switch_to_postgres_and_redis_from_environment():
    result = settings_probe(
        {
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/offerdesk",
            "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        }
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["config.postgresql", "True", "False", "redis://127.0.0.1:6379/0"]


def test_production_settings_refuse_to_start_without_secret_and_hosts():
    result = settings_probe({}, module="config.settings.production")
    assert result.returncode != 0
    assert "SECRET_KEY and ALLOWED_HOSTS" in result.stderr


def test_production_settings_refuse_debug_on():
    result = settings_probe(
        {"SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "pos.example.com", "DEBUG": "true"},
        module="config.settings.production",
    )
    assert result.returncode != 0
    assert "DEBUG off" in result.stderr


def test_production_settings_start_with_secret_and_hosts():
    result = settings_probe(
        {"SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "pos.example.com"}, module="config.settings.production"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[1] == "False"


def test_production_settings_refuse_without_secret():
    result = settings_probe({"ALLOWED_HOSTS": "pos.example.com"}, module="config.settings.production")
    assert result.returncode != 0
    assert "need SECRET_KEY in" in result.stderr


def bare_environment(**values):
    """Only PATH (and what a test names): what a deployment's process manager would pass."""
    return {"PATH": os.environ["PATH"], **values}


def run_bare(code, **values):
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=bare_environment(**values), capture_output=True,
                          text=True)  # fmt: skip


PRODUCTION_SECRETS = {"SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "pos.example.com"}
PRINT_SETTINGS = "from django.conf import settings; print(settings.SETTINGS_MODULE, settings.DEBUG)"


@pytest.mark.parametrize("module", ["config", "config.celery"])
def test_importing_the_config_package_or_celery_app_chooses_no_settings(module):
    result = run_bare(f"import os, {module}; print(os.environ.get('DJANGO_SETTINGS_MODULE'))")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "None"


def test_wsgi_and_asgi_entry_points_default_to_production():
    for entry in ("config.wsgi", "config.asgi"):
        result = run_bare(f"import {entry}; {PRINT_SETTINGS}", **PRODUCTION_SECRETS)
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["config.settings.production", "False"], entry


def test_celery_app_defaults_to_production_when_it_reads_its_configuration():
    result = run_bare(f"from config.celery import app; app.conf.broker_url; {PRINT_SETTINGS}", **PRODUCTION_SECRETS)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["config.settings.production", "False"]


def test_manage_py_defaults_to_development():
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", PRINT_SETTINGS], cwd=ROOT, env=bare_environment(),
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["config.settings.development", "True"]


def database_options_probe(env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DB_PREPARE_THRESHOLD"}}
    env.update(env_overrides, DJANGO_SETTINGS_MODULE="config.settings.development")
    code = "from django.conf import settings; print(sorted(settings.DATABASES['default'].get('OPTIONS', {}).items()))"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)


def test_postgres_binds_on_the_server_and_prepares_repeated_statements_unless_turned_off():
    url = {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/offerdesk"}
    prepared = database_options_probe(url)
    assert prepared.returncode == 0, prepared.stderr
    assert prepared.stdout.strip() == "[('prepare_threshold', 5), ('server_side_binding', True)]"
    unprepared = database_options_probe({**url, "DB_PREPARE_THRESHOLD": "0"})
    assert unprepared.stdout.strip() == "[('prepare_threshold', None), ('server_side_binding', True)]"


def test_media_files_are_not_served_in_development_either():
    code = (
        "import django; django.setup(); from django.urls import Resolver404, resolve\n"
        "try:\n    resolve('/media/exports/export-1-run-1.csv'); print('served')\n"
        "except Resolver404:\n    print('not served')"
    )
    result = run_bare(code, DJANGO_SETTINGS_MODULE="config.settings.development")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "not served"


def test_check_deploy_under_production_settings_leaves_only_the_justified_warnings():
    """W003: CSRF protection is config.middleware.CsrfViewMiddleware, Django's own skipped for the token API
    (tests/test_middleware.py). W021: preloading HSTS is the domain owner's choice (SECURE_HSTS_PRELOAD)."""
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--settings", "config.settings.production"], cwd=ROOT,
        env=bare_environment(**PRODUCTION_SECRETS), capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert set(re.findall(r"\((\w+\.\w+)\)", result.stdout + result.stderr)) == {"security.W003", "security.W021"}
