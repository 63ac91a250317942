import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def settings_probe(env_overrides, module="config.settings.base"):
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


def test_settings_refuse_to_start_without_secret_and_hosts_when_debug_is_off():
    result = settings_probe({"DEBUG": "false"})
    assert result.returncode != 0
    assert "SECRET_KEY and ALLOWED_HOSTS" in result.stderr


def test_production_settings_start_with_secret_and_hosts():
    result = settings_probe(
        {"SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "pos.example.com"}, module="config.settings.production"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[1] == "False"


def test_production_settings_refuse_without_secret():
    result = settings_probe({}, module="config.settings.production")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def database_options_probe(env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DB_PREPARE_THRESHOLD"}}
    env.update(env_overrides, DJANGO_SETTINGS_MODULE="config.settings.base")
    code = "from django.conf import settings; print(sorted(settings.DATABASES['default'].get('OPTIONS', {}).items()))"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)


def test_postgres_binds_on_the_server_and_prepares_repeated_statements_unless_turned_off():
    url = {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/offerdesk"}
    prepared = database_options_probe(url)
    assert prepared.returncode == 0, prepared.stderr
    assert prepared.stdout.strip() == "[('prepare_threshold', 5), ('server_side_binding', True)]"
    unprepared = database_options_probe({**url, "DB_PREPARE_THRESHOLD": "0"})
    assert unprepared.stdout.strip() == "[('prepare_threshold', None), ('server_side_binding', True)]"
