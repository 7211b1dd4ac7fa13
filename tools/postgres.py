"""A private PostgreSQL cluster for ARA's server, from Debian's ``postgresql`` package (installs nothing).

    python tools/postgres.py start DIR [--host 127.0.0.1] [--port 55432]   # initdb on first use, then start
    python tools/postgres.py stop DIR
    python tools/postgres.py status DIR          # JSON: running, host, port, database, user, sizes (no secrets)
    python tools/postgres.py ara-settings DIR    # JSON: ARA's DATABASE_* settings for this cluster
    python tools/postgres.py ara-start DIR --ara-data ARA_DIR [--ara-server URL] [--workers 4]   # + ARA's server
    python tools/postgres.py ara-stop DIR --ara-data ARA_DIR   # ARA's server, then PostgreSQL

DIR holds everything (``make ara-start ARA_DB=postgresql`` uses ``.ara/postgresql``):

* ``pgdata/``: the cluster (``initdb``), owned by the user PostgreSQL runs as;
* ``run/``: its unix socket, ``postmaster.log``; only that user (and root) can enter it;
* ``ara.pgpass`` (mode 0600): the ARA role's generated password, in libpq's password-file format.
  ARA's server is given the file's path (``DATABASE_OPTIONS: {passfile: ...}``), never the password:
  the password is not printed, not in an environment variable, not on a command line, not in ARA's
  ``settings.yaml``; PostgreSQL itself only ever sees its SCRAM verifier (computed here);
* ``cluster.json``: where it listens and the names (no secret).

PostgreSQL refuses to run as root: as root, every PostgreSQL program runs as the ``postgres`` system user
that Debian's package creates (``runuser -u postgres``), and DIR's parents must let that user through
(``/tmp`` and ``.ara`` do; pytest's ``/tmp/pytest-of-root`` does not). Otherwise they run as the invoking
user. Access: ARA's role over TCP on the given loopback address with SCRAM-SHA-256, to its own database
only; the cluster's superuser over the unix socket by peer authentication (root or the invoking user).
The binaries: the newest ``/usr/lib/postgresql/*/bin`` (``JOHANN_PG_BINDIR`` to choose); none there:
``make postgresql-deps`` (apt-get install postgresql).
"""
from __future__ import annotations

import argparse
import base64
import contextlib
import glob
import hashlib
import hmac
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 55432   # not Debian's 5432: a system cluster may be there
DATABASE = "ara"
ROLE = "ara"
SYSTEM_USER = "postgres"   # the user Debian's package creates; used when we are root
PASSFILE = "ara.pgpass"
SCRAM_ITERATIONS = 4096


class PostgresError(RuntimeError):
    """PostgreSQL is missing, or the cluster could not be created, started or stopped (never holds a secret)."""


def bin_dir() -> Path:
    """Debian's PostgreSQL binaries: JOHANN_PG_BINDIR, else the newest /usr/lib/postgresql/<major>/bin."""
    chosen = os.environ.get("JOHANN_PG_BINDIR")
    found = [Path(chosen)] if chosen else sorted(
        (Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin")),
        key=lambda p: [int(x) for x in re.findall(r"\d+", p.parent.name)] or [0], reverse=True)
    for candidate in found:
        if all((candidate / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return candidate
    raise PostgresError("PostgreSQL's server programs (initdb, pg_ctl, postgres) are not in "
                        + (str(chosen) if chosen else "/usr/lib/postgresql/*/bin")
                        + ": install Debian's postgresql package (make postgresql-deps, or apt-get install postgresql)")


def _as_root() -> bool:
    return os.geteuid() == 0


def server_user() -> str:
    """Who PostgreSQL runs as: the ``postgres`` system user when we are root, else ourselves."""
    if not _as_root():
        return pwd.getpwuid(os.geteuid()).pw_name
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        raise PostgresError(f"running as root, and there is no '{SYSTEM_USER}' system user to run PostgreSQL as "
                            "(PostgreSQL refuses root): install Debian's postgresql package, which creates it") from None
    return SYSTEM_USER


def _run(command: list[str], timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    """Run a PostgreSQL program as server_user(); a failure raises with its output (which holds no secret)."""
    prefix = ["runuser", "-u", SYSTEM_USER, "--"] if _as_root() else []
    done = subprocess.run(prefix + command, capture_output=True, text=True, timeout=timeout, check=False,
                          cwd="/", **kwargs)
    if done.returncode:
        raise PostgresError(f"{Path(command[0]).name} failed ({done.returncode}): "
                            f"{(done.stderr or done.stdout).strip()[-1500:]}")
    return done


def _chown(path: Path) -> None:
    if _as_root():
        entry = pwd.getpwnam(SYSTEM_USER)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def scram_verifier(password: str, salt: bytes | None = None, iterations: int = SCRAM_ITERATIONS) -> str:
    """PostgreSQL's SCRAM-SHA-256 verifier of password (what pg_authid stores): the server never sees the password."""
    salt = salt or os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = lambda raw: base64.b64encode(raw).decode()   # noqa: E731
    return (f"SCRAM-SHA-256${iterations}:{b64(salt)}$"
            f"{b64(hashlib.sha256(client_key).digest())}:{b64(server_key)}")


def free_port(host: str = DEFAULT_HOST) -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class Cluster:
    """A private cluster in ``base`` (see the module's doc)."""

    def __init__(self, base: str | os.PathLike):
        self.base = Path(base).resolve()
        self.pgdata = self.base / "pgdata"
        self.run_dir = self.base / "run"
        self.passfile = self.base / PASSFILE
        self.log = self.run_dir / "postmaster.log"
        self.info_file = self.base / "cluster.json"

    # -- what it is
    def info(self) -> dict:
        """host, port, database, user, superuser, bin_dir (cluster.json); {} before the first start."""
        try:
            return json.loads(self.info_file.read_text())
        except FileNotFoundError:
            return {}

    @property
    def host(self) -> str:
        return self.info().get("host", DEFAULT_HOST)

    @property
    def port(self) -> int:
        return int(self.info().get("port", DEFAULT_PORT))

    def initialised(self) -> bool:
        return (self.pgdata / "PG_VERSION").is_file() and self.passfile.is_file()

    def running(self) -> bool:
        if not (self.pgdata / "postmaster.pid").is_file():
            return False
        try:
            status = _run([str(bin_dir() / "pg_ctl"), "-D", str(self.pgdata), "status"], timeout=30)
        except PostgresError:
            return False
        return "server is running" in status.stdout

    def ara_settings(self, conn_max_age: int = 60) -> dict:
        """ARA's DATABASE_* settings (ARA_<NAME> in its environment or settings.yaml): no password, its file."""
        info = self.info()
        return {"DATABASE_ENGINE": "django.db.backends.postgresql", "DATABASE_NAME": info.get("database", DATABASE),
                "DATABASE_USER": info.get("user", ROLE), "DATABASE_HOST": self.host, "DATABASE_PORT": self.port,
                # each gunicorn worker keeps its connection for this long (0: a new one per request)
                "DATABASE_CONN_MAX_AGE": conn_max_age, "DATABASE_OPTIONS": {"passfile": str(self.passfile)}}

    def connect(self, dbname: str | None = None, **kwargs):
        """A psycopg connection as ARA's role over TCP (the password from the 0600 file, by libpq)."""
        import psycopg
        return psycopg.connect(host=self.host, port=self.port, dbname=dbname or self.info().get("database", DATABASE),
                               user=self.info().get("user", ROLE), passfile=str(self.passfile),
                               connect_timeout=10, **kwargs)

    def _admin(self, **kwargs):
        """The superuser over the unix socket (peer authentication), in autocommit."""
        import psycopg
        return psycopg.connect(host=str(self.run_dir), port=self.port, dbname="postgres",
                               user=self.info()["superuser"], autocommit=True, connect_timeout=10, **kwargs)

    def database_size(self) -> int:
        """pg_database_size of ARA's database, in bytes."""
        with self.connect() as conn:
            return int(conn.execute("select pg_database_size(current_database())").fetchone()[0])

    # -- lifecycle
    def init(self, host: str, port: int) -> None:
        """initdb, the ARA role's password file; idempotent (an existing cluster is kept)."""
        binaries, user = bin_dir(), server_user()
        self.base.mkdir(parents=True, exist_ok=True)
        if _as_root():
            # the postgres user passes through to pgdata/ and run/, reads nothing else here
            os.chmod(self.base, 0o711)  # noqa: S103
            probe = subprocess.run(["runuser", "-u", SYSTEM_USER, "--", "test", "-x", str(self.base)],
                                   capture_output=True, check=False)
            if probe.returncode:
                raise PostgresError(f"the '{SYSTEM_USER}' user cannot reach {self.base} (a parent directory is "
                                    "closed to it): put the cluster under /tmp or an open directory")
        for path in (self.pgdata, self.run_dir):
            path.mkdir(mode=0o700, exist_ok=True)
            _chown(path)
        if not self.passfile.is_file():
            # written before initdb, so a cluster never exists without its password file
            fd = os.open(self.passfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(f"*:*:{DATABASE}:{ROLE}:{secrets.token_urlsafe(32)}\n")
        os.chmod(self.passfile, 0o600)
        if not (self.pgdata / "PG_VERSION").is_file():
            _run([str(binaries / "initdb"), "-D", str(self.pgdata), "-U", user, "--encoding", "UTF8",
                  "--locale", "C", "--auth-local", "peer", "--auth-host", "scram-sha-256", "--no-instructions"],
                 timeout=300)
            with open(self.pgdata / "postgresql.conf", "a") as conf:   # written as root: pgdata's files stay readable
                conf.write("\ninclude_if_exists = 'johann.conf'\n")
        self._configure(host, port, user, binaries)

    def _configure(self, host: str, port: int, user: str, binaries: Path) -> None:
        me = pwd.getpwuid(os.geteuid()).pw_name
        conf = (f"# written by tools/postgres.py at each start\nlisten_addresses = '{host}'\nport = {port}\n"
                f"unix_socket_directories = '{self.run_dir}'\nmax_connections = 60\n"
                "password_encryption = 'scram-sha-256'\nlog_min_messages = warning\n")
        family = "/128" if ":" in host else "/32"
        hba = ("# written by tools/postgres.py: the superuser over the socket (peer), ARA's role over TCP\n"
               f"local all {user} peer map=admin\n"
               f"host {DATABASE} {ROLE} {host}{family} scram-sha-256\n")
        ident = f"admin {me} {user}\nadmin {user} {user}\n"
        for name, text in (("johann.conf", conf), ("pg_hba.conf", hba), ("pg_ident.conf", ident)):
            path = self.pgdata / name
            path.write_text(text)
            os.chmod(path, 0o600)
            _chown(path)
        self.info_file.write_text(json.dumps({"host": host, "port": port, "database": DATABASE, "user": ROLE,
                                              "superuser": user, "bin_dir": str(binaries)}, indent=1) + "\n")

    def start(self, host: str | None = None, port: int | None = None, timeout: float = 60) -> None:
        """initdb on first use, then start on host:port (default: the last ones, else 127.0.0.1:55432)
        and create ARA's role and database when missing. Already running: nothing (its address stays)."""
        if self.running():
            return
        host, port = host or self.host, int(port or self.port)
        self.init(host, port)
        binaries = bin_dir()
        try:
            _run([str(binaries / "pg_ctl"), "-D", str(self.pgdata), "-l", str(self.log), "-w", "-t", str(int(timeout)),
                  "start"], timeout=timeout + 30)
        except PostgresError as exc:
            raise PostgresError(f"{exc}\n{self.log_tail()}") from None
        self._ensure_role_and_database()

    def _ensure_role_and_database(self) -> None:
        password = self.passfile.read_text().strip().rsplit(":", 1)[1]
        from psycopg import sql
        with self._admin() as admin:
            exists = admin.execute("select 1 from pg_roles where rolname = %s", (ROLE,)).fetchone()
            verb = "alter" if exists else "create"
            # the verifier, not the password; composed client-side (DDL takes no parameters)
            admin.execute(sql.SQL(verb + " role {} login password {}").format(
                sql.Identifier(ROLE), sql.Literal(scram_verifier(password))))
            if not admin.execute("select 1 from pg_database where datname = %s", (DATABASE,)).fetchone():
                admin.execute(sql.SQL("create database {} owner {} encoding 'UTF8' template template0").format(
                    sql.Identifier(DATABASE), sql.Identifier(ROLE)))

    def stop(self, timeout: float = 60) -> bool:
        """Stop the cluster (fast shutdown); False when it was not running."""
        if not self.running():
            return False
        _run([str(bin_dir() / "pg_ctl"), "-D", str(self.pgdata), "-m", "fast", "-w", "-t", str(int(timeout)), "stop"],
             timeout=timeout + 30)
        return True

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def remove(self) -> None:
        """Stop and delete the whole directory (tests)."""
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)


ROOT = Path(__file__).resolve().parents[1]
ARA_WORKERS = 4           # gunicorn sync workers in front of PostgreSQL
ARA_CALLBACK_THREADS = 4  # ARA's callback threads (its maximum) against them


def ara_plugin():
    """The project's johann.monitor.ara_server callback module (its start_server()), as tools/ara_server.py loads it."""
    try:
        from tools import ara_server  # imported as tools.postgres (the tests, bench/)
    except ImportError:
        import ara_server  # run as tools/postgres.py: its own directory is on the import path
    return ara_server.plugin()


def _pid_alive(pid_file: Path) -> int:
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return 0


def start_ara(cluster: Cluster, data_dir: str | os.PathLike, endpoint: str, workers: int = ARA_WORKERS,
              host: str | None = None, port: int | None = None, timeout: float = 60) -> bool:
    """PostgreSQL (started, created on first use), then ARA's API server (gunicorn, ``workers`` sync workers) on
    ``endpoint`` with its data dir's settings pointing at it; False when ours was already up."""
    data_dir = Path(data_dir)
    cluster.start(host, port)
    plugin = ara_plugin()
    if plugin.answers(endpoint):
        if _pid_alive(data_dir / "gunicorn.pid"):
            return False
        raise PostgresError(f"another server already answers at {endpoint} (the local SQLite one? make ara-stop)")
    problem = plugin.start_server(endpoint, str(data_dir), timeout, database=cluster.ara_settings(), workers=workers)
    if problem:
        raise PostgresError(f"ARA's server on PostgreSQL did not start: {problem}")
    return True


def stop_pid(pid_file: Path, timeout: float = 20) -> bool:
    """SIGTERM the process in pid_file (gunicorn's master) and wait for it to leave; False when none ran."""
    pid = _pid_alive(pid_file)
    if not pid:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not os.path.exists(f"/proc/{pid}"):
            break
        try:   # our own child (tests): reap it
            if os.waitpid(pid, os.WNOHANG)[0]:
                break
        except ChildProcessError:
            pass
        time.sleep(0.1)
    else:
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(FileNotFoundError):
        pid_file.unlink()
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools/postgres.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("start", "stop", "status", "ara-settings", "ara-start", "ara-stop"))
    parser.add_argument("dir", type=Path, help="the cluster's directory (created on first start)")
    parser.add_argument("--host", help=f"loopback address to listen on (default {DEFAULT_HOST}, or the last one)")
    parser.add_argument("--port", type=int, help=f"TCP port (default {DEFAULT_PORT}, or the last one)")
    parser.add_argument("--ara-data", type=Path, help="ara-start/ara-stop: ARA's server data dir (settings.yaml, pid)")
    parser.add_argument("--ara-server", default="http://127.0.0.1:8055", help="ara-start: where ARA's API listens")
    parser.add_argument("--workers", type=int, default=ARA_WORKERS, help="ara-start: gunicorn sync workers")
    args = parser.parse_args(argv)
    if args.command.startswith("ara-") and args.command != "ara-settings" and not args.ara_data:
        parser.error(f"{args.command} needs --ara-data")
    cluster = Cluster(args.dir)
    try:
        if args.command == "start":
            was = cluster.running()
            cluster.start(args.host, args.port)
            print(f"PostgreSQL {'already running' if was else 'started'} at {cluster.host}:{cluster.port} "
                  f"(cluster in {cluster.pgdata}, ARA's role password in {cluster.passfile}, mode 0600)")
        elif args.command == "stop":
            print("PostgreSQL stopped" if cluster.stop() else f"no PostgreSQL running from {cluster.pgdata}")
        elif args.command == "status":
            running = cluster.running()
            status = {"running": running, **cluster.info(), "pgdata": str(cluster.pgdata)}
            if running:
                status["database_size_bytes"] = cluster.database_size()
            print(json.dumps(status, indent=1))
            return 0 if running else 3
        elif args.command == "ara-start":
            started = start_ara(cluster, args.ara_data, args.ara_server, args.workers, args.host, args.port)
            print(f"ARA: {args.ara_server} ({'started' if started else 'already running'}, {args.workers} gunicorn "
                  f"workers, data in {args.ara_data}) on PostgreSQL {cluster.host}:{cluster.port} "
                  f"database {cluster.info()['database']}")
        elif args.command == "ara-stop":
            ara = stop_pid(args.ara_data / "gunicorn.pid")
            pg = cluster.stop()
            print(f"ARA server on PostgreSQL {'stopped' if ara else 'not running'}; "
                  f"PostgreSQL {'stopped' if pg else 'not running'}")
        else:
            print(json.dumps(cluster.ara_settings(), indent=1))
    except PostgresError as exc:
        print(f"tools/postgres.py: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
