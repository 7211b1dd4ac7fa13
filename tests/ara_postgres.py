"""ARA's server on a real PostgreSQL for tests: Debian's postgresql (tools/postgres.py) + gunicorn, several workers.

The session fixture ``ara_postgresql`` (tests/conftest.py) is ``start_ara_postgres()``, stopped at the session's
end. Everything is private to it: a cluster in a fresh directory under /tmp, PostgreSQL and ARA's API on free
ports of 127.0.0.1 (never 8055, never a user's server), ARA's data dir beside it. PostgreSQL missing fails
loudly (tools/postgres.PostgresError: make postgresql-deps), never skips.

    def test_x(ara_postgresql, lab):
        run_playbook(lab, playbook, extra_env=ara_postgresql.env(), ara=True)
        ara_postgresql.api("/api/v1/playbooks", label="...")["results"]
        with ara_postgresql.connect() as db: db.execute("select count(*) from results")
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tools import postgres


@dataclass
class AraPostgres:
    """A running ARA API server on its own PostgreSQL. ``stop()`` ends both and removes their directory."""

    cluster: postgres.Cluster
    api_server: str            # ARA's API, e.g. http://127.0.0.1:41234
    data_dir: Path             # ARA server's data dir: settings.yaml (DATABASE_* -> the cluster), gunicorn.pid, log
    base: Path                 # everything: the cluster (base/pg), ARA's data dir (base/ara-server)
    workers: int = postgres.ARA_WORKERS
    callback_threads: int = postgres.ARA_CALLBACK_THREADS
    stopped: bool = field(default=False, init=False)

    def env(self) -> dict[str, str]:
        """The environment an ansible-playbook run (with the project's ansible.cfg) needs to record here: ARA's
        http client to this server, its callback threads, and the project's ara_server callback pointed at this
        data dir without starting anything (a dead server is reported, not replaced)."""
        return {"ARA_API_CLIENT": "http", "ARA_API_SERVER": self.api_server,
                "ARA_CALLBACK_THREADS": str(self.callback_threads),
                "JOHANN_ARA_DATA_DIR": str(self.data_dir), "JOHANN_ARA_AUTOSTART": "false"}

    def api(self, path: str, **params) -> dict:
        """GET ARA's API (``/api/v1/...``); the JSON body; raises on an HTTP error."""
        reply = httpx.get(self.api_server + path, params=params, timeout=30)
        reply.raise_for_status()
        return reply.json()

    def connect(self, **kwargs):
        """A psycopg connection to ARA's database, as ARA's role (use it in a with block)."""
        return self.cluster.connect(**kwargs)

    def database_size(self) -> int:
        """pg_database_size of ARA's database, bytes."""
        return self.cluster.database_size()

    def stop(self) -> None:
        """Stop gunicorn, then PostgreSQL, then remove the directory; safe to call twice."""
        if self.stopped:
            return
        self.stopped = True
        try:
            postgres.stop_pid(self.data_dir / "gunicorn.pid")
        finally:
            try:
                self.cluster.stop()
            finally:
                shutil.rmtree(self.base, ignore_errors=True)


def start_ara_postgres(workers: int = postgres.ARA_WORKERS,
                       callback_threads: int = postgres.ARA_CALLBACK_THREADS) -> AraPostgres:
    """PostgreSQL + ARA's server on free loopback ports in a fresh /tmp directory; stopped again if it fails."""
    postgres.bin_dir()   # PostgreSQL missing: PostgresError now, before anything is made
    # under /tmp: as root, PostgreSQL runs as the postgres user, who cannot enter pytest's /tmp/pytest-of-root
    base = Path(tempfile.mkdtemp(prefix="johann-ara-pg-"))
    host = "127.0.0.1"
    server = AraPostgres(cluster=postgres.Cluster(base / "pg"),
                         api_server=f"http://{host}:{postgres.free_port(host)}", data_dir=base / "ara-server",
                         base=base, workers=workers, callback_threads=callback_threads)
    try:
        os.chmod(base, 0o711)  # noqa: S103 - the postgres user passes through to base/pg, reads nothing here
        postgres.start_ara(server.cluster, server.data_dir, server.api_server, workers=workers, host=host,
                           port=postgres.free_port(host))
    except BaseException:
        with contextlib.suppress(Exception):
            server.stop()
        raise
    return server
