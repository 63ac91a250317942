"""The app started as the README's production command starts it: granian, config.wsgi, and an environment
holding only DATABASE_URL, SECRET_KEY and ALLOWED_HOSTS (plus PATH); no DJANGO_SETTINGS_MODULE."""

import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from config.actors import Actor
from config.api.roles import Role
from config.api.services import api_client_create
from exports import services as exports
from tests.exports.factories import ExportDefinitionFactory
from tests.members.factories import MemberFactory

ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY = secrets.token_urlsafe(50)
BEHIND_TLS = {"X-Forwarded-Proto": "https"}  # what the TLS-terminating proxy in front of the app sets


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url(port=None) -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{port or db['PORT'] or 5432}/{db['NAME']}"


def production_environment(*, database: str) -> dict:
    return {"PATH": os.environ["PATH"], "DATABASE_URL": database, "SECRET_KEY": SECRET_KEY,
            "ALLOWED_HOSTS": "127.0.0.1"}  # fmt: skip


class ProductionServer:
    def __init__(self, environment: dict, log_path: Path):
        self.port = free_port()
        command = [str(Path(sys.executable).parent / "granian"), "--interface", "wsgi", "--workers", "2",
                   "--blocking-threads", "4", "--host", "127.0.0.1", "--port", str(self.port),
                   "--static-path-mount", str(settings.STATIC_ROOT), "config.wsgi:application"]  # fmt: skip
        self.log_path = log_path
        self.log = open(log_path, "wb")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_until_listening(self, timeout=30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"granian exited early:\n{self.log_path.read_text()[-3000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"granian not listening after {timeout}s:\n{self.log_path.read_text()[-3000:]}")

    def get(self, path, headers=None):
        client = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            client.request("GET", path, headers={**BEHIND_TLS, **(headers or {})})
            response = client.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            client.close()

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.log.close()


@pytest.fixture
def start_production_server(tmp_path):
    call_command("collectstatic", interactive=False, verbosity=0)  # the README's step before serving
    servers = []

    def start(*, database: str):
        server = ProductionServer(production_environment(database=database), tmp_path / f"granian-{len(servers)}.log")
        servers.append(server)
        return server.wait_until_listening()

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def export_file_in_the_production_media_root(settings):
    """A real export run whose file lies where production settings keep MEDIA_ROOT by default."""
    settings.MEDIA_ROOT = str(settings.BASE_DIR / "var" / "media")
    MemberFactory(external_id="M-PRIVATE", email="private@example.com")
    definition = ExportDefinitionFactory(columns=["external_id", "email"])
    run = exports.export_run_create(definition=definition, actor=Actor.system("test"))
    run = exports.export_run_execute(run_id=run.pk, actor=Actor.system("test"))
    path = Path(settings.MEDIA_ROOT) / run.file.name
    assert path.read_bytes().startswith(b"external_id,email\n")
    yield run, path
    path.unlink(missing_ok=True)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_production_command_runs_without_debug_and_serves_export_files_only_with_a_token(
    start_production_server, export_file_in_the_production_media_root
):
    run, path = export_file_in_the_production_media_root
    _, token = api_client_create(name="marketing-desk", role=Role.MARKETER, store_codes=[], actor=Actor.system("tests"))
    server = start_production_server(database=database_url())

    status, headers, body = server.get("/no-such-page/")
    assert status == 404
    assert b"Traceback" not in body and b"DEBUG = True" not in body and b"URLconf" not in body
    status, headers, body = server.get("/api/v1/no-such-resource")
    assert (status, headers["content-type"], json.loads(body)["code"]) == (404, "application/problem+json",
                                                                            "not_found")  # fmt: skip

    status, _, body = server.get(f"{settings.MEDIA_URL}{run.file.name}")
    assert status == 404 and b"private@example.com" not in body

    status, headers, body = server.get(f"/api/v1/export-runs/{run.pk}/file", {"Authorization": f"Token {token}"})
    assert status == 200 and body == path.read_bytes()
    assert "max-age=31536000" in headers["strict-transport-security"]
    assert server.get(f"/api/v1/export-runs/{run.pk}/file")[0] == 401

    client = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    client.request("GET", "/api/v1/offers")  # plain HTTP, not through the TLS proxy
    response = client.getresponse()
    assert (response.status, response.getheader("Location")) == (301, f"https://127.0.0.1:{server.port}/api/v1/offers")
    client.close()


@pytest.mark.postgres
def test_production_app_without_its_database_answers_503_problem(start_production_server):
    server = start_production_server(database=database_url(port=free_port()))  # nothing listens there
    status, headers, body = server.get("/api/v1/offers", {"Authorization": "Token some-token"})
    assert (status, headers["content-type"], headers["retry-after"]) == (503, "application/problem+json", "5")
    assert json.loads(body)["code"] == "service_unavailable"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_production_command_serves_the_collected_static_files_the_admin_needs(start_production_server):
    server = start_production_server(database=database_url())

    status, headers, body = server.get(f"{settings.STATIC_URL}admin/css/base.css")
    assert status == 200 and headers["content-type"].startswith("text/css")
    assert body == (Path(settings.STATIC_ROOT) / "admin" / "css" / "base.css").read_bytes()
    assert server.get(f"{settings.STATIC_URL}../config/settings/base.py")[0] == 404
