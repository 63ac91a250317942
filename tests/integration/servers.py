"""Real PostgreSQL clusters, streaming standbys and PgBouncer, started on loopback in a temporary directory.

Each runs as the `postgres` system user when the tests run as root (neither initdb nor PgBouncer runs as root),
listens on a free port of its own and is stopped, and its directory removed, by `stop()`.
"""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

POSTGRES_BIN = Path(os.environ.get("POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))
PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


def binaries_missing() -> str | None:
    """Why these servers cannot be started here, or None."""
    for path in (POSTGRES_BIN / "initdb", POSTGRES_BIN / "pg_basebackup", Path(PGBOUNCER)):
        if not path.exists():
            return f"{path} is not installed"
    if os.geteuid() == 0 and not _postgres_user():
        return "running as root without a postgres system user"
    return None


def _postgres_user():
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        return None


def _as_server_user(command: list) -> list:
    return ["runuser", "-u", "postgres", "--", *map(str, command)] if os.geteuid() == 0 else list(map(str, command))


def run(command: list, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(_as_server_user(command), check=True, capture_output=True, text=True, **kwargs)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_directory(prefix: str) -> Path:
    """A directory the server user owns (pytest's tmp_path is closed to other users)."""
    folder = Path(tempfile.mkdtemp(prefix=f"offerdesk-{prefix}-"))
    if os.geteuid() == 0:
        user = _postgres_user()
        os.chown(folder, user.pw_uid, user.pw_gid)
    return folder


def wait_until_accepting(port: int, *, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready = subprocess.run([POSTGRES_BIN / "pg_isready", "-h", "127.0.0.1", "-p", str(port)], capture_output=True)
        if ready.returncode == 0:
            return
        time.sleep(0.2)
    raise RuntimeError(f"nothing accepts connections on port {port} after {timeout}s")


class PostgresCluster:
    """A cluster of its own (`initdb`), or a streaming standby of one (`standby_of`)."""

    def __init__(self, folder: Path, port: int):
        self.folder, self.port = folder, port
        self.data = folder / "data"

    @classmethod
    def primary(cls) -> "PostgresCluster":
        cluster = cls(server_directory("primary"), free_port())
        run([POSTGRES_BIN / "initdb", "-D", cluster.data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
             "--locale=C"])  # fmt: skip
        return cluster.start()

    @classmethod
    def standby_of(cls, primary: "PostgresCluster") -> "PostgresCluster":
        cluster = cls(server_directory("standby"), free_port())
        # -R writes primary_conninfo and standby.signal: the copy starts as a hot standby streaming from the primary.
        run([POSTGRES_BIN / "pg_basebackup", "-h", "127.0.0.1", "-p", primary.port, "-U", "postgres",
             "-D", cluster.data, "-R", "-X", "stream", "-c", "fast"])  # fmt: skip
        return cluster.start()

    def start(self) -> "PostgresCluster":
        settings = (f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.folder} "
                    "-c fsync=off -c wal_level=replica -c max_wal_senders=4 -c hot_standby=on")  # fmt: skip
        run([POSTGRES_BIN / "pg_ctl", "-D", self.data, "-o", settings, "-l", self.folder / "server.log", "-w",
             "start"])  # fmt: skip
        wait_until_accepting(self.port)
        return self

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str, *, database: str = "postgres") -> str:
        done = subprocess.run([POSTGRES_BIN / "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                               "-d", database, "-v", "ON_ERROR_STOP=1", "-Atc", sql],
                              check=True, capture_output=True, text=True)  # fmt: skip
        return done.stdout.strip()

    def log(self) -> str:
        path = self.folder / "server.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run(_as_server_user([POSTGRES_BIN / "pg_ctl", "-D", self.data, "-m", "immediate", "-w",
                                            "stop"]), capture_output=True)  # fmt: skip
        shutil.rmtree(self.folder, ignore_errors=True)


class PgBouncer:
    """Debian's pgbouncer in transaction pool mode in front of one PostgreSQL server, trusting every local user."""

    def __init__(self, *, server_host: str, server_port: int, pool_size: int = 4):
        self.folder, self.port = server_directory("pgbouncer"), free_port()
        (self.folder / "userlist.txt").write_text('"postgres" ""\n')
        (self.folder / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"* = host={server_host} port={server_port}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {self.folder / 'userlist.txt'}\nadmin_users = postgres\n"
            f"pool_mode = transaction\ndefault_pool_size = {pool_size}\nmax_client_conn = 200\n"
            f"logfile = {self.folder / 'pgbouncer.log'}\npidfile = {self.folder / 'pgbouncer.pid'}\n"
        )
        self.process = None

    def start(self) -> "PgBouncer":
        # As root, pgbouncer itself drops to the postgres user (-u) once it has read its files.
        user = ["-u", "postgres"] if os.geteuid() == 0 else []
        self.process = subprocess.Popen([PGBOUNCER, *user, str(self.folder / "pgbouncer.ini")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        wait_until_accepting(self.port, timeout=30)
        return self

    def show(self, what: str) -> list[dict]:
        """Rows of the admin console's SHOW <what> (POOLS, STATS, CONFIG …)."""
        done = subprocess.run([POSTGRES_BIN / "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                               "-d", "pgbouncer", "-F", "\t", "-Ac", f"SHOW {what}"],
                              check=True, capture_output=True, text=True)  # fmt: skip
        header, *rows = done.stdout.strip().splitlines()[:-1]  # the last line is "(N rows)"
        names = header.split("\t")
        return [dict(zip(names, row.split("\t"), strict=True)) for row in rows]

    def log(self) -> str:
        path = self.folder / "pgbouncer.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.folder, ignore_errors=True)
