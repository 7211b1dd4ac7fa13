# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Start the local ARA API server that ARA's callback is configured to send to, when it is not up."""
from __future__ import annotations

DOCUMENTATION = r"""
name: ara_server
type: aggregate
short_description: Start the project's local ARA API server before ARA records the run
version_added: 0.1.0
description:
  - ARA's callback (C(ara_default)) with C(api_client=http) sends every result to an ARA API server.
    When that server runs on this machine, it has to be up before the playbook starts, or nothing is recorded.
  - When ARA's callback is loaded with the http client and its C(api_server) is a loopback address that
    does not answer, this callback starts the server there - C(gunicorn) with one sync worker serving
    C(ara.server.wsgi), its SQLite database and settings in O(data_dir) - and waits until it answers.
    It runs before ARA's callback sends anything.
  - The server keeps running after the run, so the next run records at once and the ARA web interface
    stays at the same address. Stop it with C(make ara-stop) or by the pid in C(<data_dir>/gunicorn.pid).
  - Why a server and not ARA's default offline client - about 4 times less added time on a
    1000-device run - is in the project's C(bench/ara-cost.md).
  - When the C(settings.yaml) of O(data_dir) names another database than SQLite (PostgreSQL, as
    C(make ara-start ARA_DB=postgresql) writes it), the server is started on that database with several
    sync workers (4) instead of one; that database must already be up (this callback starts no database).
    SQLite always gets one worker - it takes one writer, and concurrent requests lost results
    (C(bench/ara-cost.md)) - so keep ARA's C(callback_threads) at 0 with SQLite; with PostgreSQL
    C(ARA_CALLBACK_THREADS=4) is safe (the project's C(docs/ara.md)).
  - Does nothing when ARA is not installed, its callback is not loaded, it uses the offline client,
    or its server is on another machine.
  - Whether the server is local or not, it guards ARA's http client with a circuit breaker. When the
    server fails to answer once (a timeout, a refused connection), ARA's later requests fail at once for
    30 s instead of each waiting for ARA's C(api_timeout), then one request tries again with a 2 s timeout.
    A hung or dead ARA server costs a run one timeout, not one per result; the run and its report go on
    (the report says its history is missing) and one warning says so.
requirements:
  - ara[server] and gunicorn on the controller, in the Python that runs Ansible.
  - psycopg (3) for a server on PostgreSQL.
options:
  autostart:
    description: Start the server when it does not answer. V(false) only reports that it is down.
    type: bool
    default: true
    ini:
      - section: johann_ara
        key: autostart
    env:
      - name: JOHANN_ARA_AUTOSTART
  data_dir:
    description:
      - The server's data directory (C(ARA_BASE_DIR)) - its SQLite database, C(settings.yaml), log and pid file.
      - Its C(settings.yaml) chooses the database (C(DATABASE_ENGINE) and the other C(DATABASE_*) settings).
      - A relative path in C(ansible.cfg) is relative to the directory of that file.
    type: path
    default: ~/.ara/server
    ini:
      - section: johann_ara
        key: data_dir
    env:
      - name: JOHANN_ARA_DATA_DIR
  start_timeout:
    description: Seconds to wait for a started server to answer.
    type: float
    default: 30
    ini:
      - section: johann_ara
        key: start_timeout
    env:
      - name: JOHANN_ARA_START_TIMEOUT
"""

import contextlib  # noqa: E402
import fcntl  # noqa: E402
import ipaddress  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import urllib.error  # noqa: E402
import urllib.parse  # noqa: E402

from ansible.module_utils.urls import open_url  # noqa: E402
from ansible.plugins.callback import CallbackBase  # noqa: E402
from ansible_collections.johann.monitor.plugins.plugin_utils._ara_guard import guard  # noqa: E402
from ansible_collections.johann.monitor.plugins.plugin_utils._compat import (  # noqa: E402
    ara_active_client,
    ara_client_kind,
)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def answers(endpoint: str, timeout: float = 1.0) -> bool:
    """The ARA API answers at endpoint (any HTTP reply from /api/v1/ means a server is there)."""
    return probe(endpoint, timeout) == "up"


def probe(endpoint: str, timeout: float = 1.0) -> str:
    """``up`` (any HTTP reply from /api/v1/), ``hung`` (connected, no reply in time) or ``down``."""
    try:
        with open_url(endpoint.rstrip("/") + "/api/v1/", timeout=timeout, use_proxy=False):
            return "up"
    except urllib.error.HTTPError:
        return "up"
    except TimeoutError:
        return "hung"
    except urllib.error.URLError as exc:
        return "hung" if isinstance(exc.reason, TimeoutError) else "down"
    except (OSError, ValueError):
        return "down"


# How the local server runs (bench/ara-cost.md has the measurements behind each choice).
SERVER_OPTIONS = ["--workers", "1"]   # SQLite: one writer at a time, or results are lost
SERVER_ENV: dict[str, str] = {}
CONCURRENT_WORKERS = 4   # sync workers on a database that takes concurrent writers (PostgreSQL)
SQLITE = "django.db.backends.sqlite3"


def settings_engine(data_dir: str) -> str:
    """The DATABASE_ENGINE of data_dir's settings.yaml (ARA's default, SQLite, when it names none)."""
    try:
        with open(os.path.join(data_dir, "settings.yaml")) as handle:
            text = handle.read()
    except OSError:
        return SQLITE
    found = re.search(r"^\s+DATABASE_ENGINE:\s*['\"]?([\w.]+)", text, re.MULTILINE)
    return found.group(1) if found else SQLITE


def _ara_env(database: dict) -> dict[str, str]:
    """ARA's DATABASE_* settings as its ARA_* environment variables (dynaconf: @json for a mapping)."""
    return {f"ARA_{key}": ("@json " + json.dumps(value)) if isinstance(value, dict) else str(value)
            for key, value in database.items()}


def _keep_database_settings(data_dir: str, database: dict) -> None:
    """Write database into data_dir's settings.yaml (written by ARA on its first start), so later starts
    (this callback's, ara-manage's) use the same database. A password is never written: use a passfile."""
    if any("PASSWORD" in key for key in database):
        raise ValueError("a database password does not go in settings.yaml: give DATABASE_OPTIONS' passfile")
    import yaml
    path = os.path.join(data_dir, "settings.yaml")
    with open(path) as handle:
        settings = yaml.safe_load(handle) or {}
    settings.setdefault("default", {}).update(database)
    fd = os.open(path + ".new", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(f"---\n# ARA's settings; DATABASE_* written by johann.monitor.ara_server ({database['DATABASE_ENGINE']})\n")
        yaml.safe_dump(settings, handle, default_flow_style=False)
    os.replace(path + ".new", path)


def start_server(endpoint: str, data_dir: str, timeout: float, gunicorn_options: list[str] | None = None,
                 server_env: dict[str, str] | None = None, database: dict | None = None,
                 workers: int | None = None) -> str | None:
    """Migrate the database and start gunicorn on endpoint's address; None when it answers, else why not.

    gunicorn_options and server_env replace SERVER_OPTIONS and SERVER_ENV (bench/ara_overhead.py compares them).
    database: ARA's DATABASE_* settings (tools/postgres.py's Cluster.ara_settings()), kept in data_dir's
    settings.yaml; None: what that file says (SQLite by default). workers: gunicorn sync workers (default 1 on
    SQLite, CONCURRENT_WORKERS on another database; more than 1 on SQLite is refused).
    Runs starting it at once: the first migrates and starts it, the others wait for that and use it.
    """
    os.makedirs(data_dir, mode=0o700, exist_ok=True)
    try:
        with _start_lock(data_dir, timeout + 150):   # migrate (up to 120 s) and gunicorn's start, by the holder
            if answers(endpoint, timeout=1.0):   # another run started it while this one waited
                return None
            return _start(endpoint, data_dir, timeout, gunicorn_options, server_env, database, workers)
    except TimeoutError as exc:
        return str(exc)


@contextlib.contextmanager
def _start_lock(data_dir: str, wait: float):
    """One start at a time per data directory: runs started together (cron overlapping, the slices of a sliced
    run on one controller) would each migrate the same database and race (Django's 'table already exists')."""
    fd = os.open(os.path.join(data_dir, "start.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"another run has been starting the server in {data_dir} for over "
                                       f"{wait:g} s (start.lock there)") from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)   # releases the lock


def _start(endpoint: str, data_dir: str, timeout: float, gunicorn_options: list[str] | None,
           server_env: dict[str, str] | None, database: dict | None, workers: int | None) -> str | None:
    url = urllib.parse.urlsplit(endpoint)
    host, port = url.hostname, url.port or 80
    engine = database["DATABASE_ENGINE"] if database else settings_engine(data_dir)
    if workers is None:
        workers = 1 if engine == SQLITE else CONCURRENT_WORKERS
    elif engine == SQLITE and workers > 1:
        return f"{workers} workers on SQLite lose results (one writer at a time): use 1, or PostgreSQL"
    if gunicorn_options is None:
        gunicorn_options = SERVER_OPTIONS if workers == 1 else ["--workers", str(workers)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARA_API_")}
    env.update(SERVER_ENV if server_env is None else server_env)
    env.update(_ara_env(database or {}))
    env["ARA_BASE_DIR"] = data_dir
    log = os.path.join(data_dir, "server.log")
    # ara-manage (python -m ara.server) insists on psycopg2 for PostgreSQL; Django itself uses psycopg 3,
    # which the project installs: the same migrate through Django's own entry point then
    manage = ["ara.server"] if engine == SQLITE else ["django"]
    env.setdefault("DJANGO_SETTINGS_MODULE", "ara.server.settings")
    migrate = subprocess.run([sys.executable, "-m", *manage, "migrate"], env=env, capture_output=True,
                             text=True, timeout=120, check=False)
    if migrate.returncode:
        return f"'ara-manage migrate' failed in {data_dir}: {(migrate.stderr or migrate.stdout).strip()[-300:]}"
    if database:
        _keep_database_settings(data_dir, database)
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    command = [sys.executable, "-m", "gunicorn", *gunicorn_options,
               "--bind", bind, "--daemon",
               "--pid", os.path.join(data_dir, "gunicorn.pid"), "--error-logfile", log,
               "--no-control-socket", "ara.server.wsgi"]
    started = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
    if started.returncode:
        return f"gunicorn did not start: {(started.stderr or started.stdout).strip()[-300:]}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if answers(endpoint, timeout=1.0):
            return None
        time.sleep(0.2)
    return f"started but not answering after {timeout:g} s (see {log})"


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "johann.monitor.ara_server"
    CALLBACK_NEEDS_ENABLED = True

    def set_options(self, task_keys=None, var_options=None, direct=None):
        super().set_options(task_keys=task_keys, var_options=var_options, direct=direct)
        # ARA's callback is loaded before this one (plugins from paths come before collection
        # callbacks) and made its client in its own set_options; nothing has been sent yet.
        client = ara_active_client()   # None: no ARA, or its callback not loaded
        endpoint = getattr(client, "endpoint", None)
        if ara_client_kind(client) != "http" or not endpoint:
            return   # no ARA, or its offline client (in-process server), or not an http client
        breaker = guard(client, self._ara_stopped_answering)
        host = urllib.parse.urlsplit(endpoint).hostname or ""
        state = probe(endpoint, timeout=2.0)
        if state == "hung" and breaker is not None:   # someone listens there and does not answer: no new server
            breaker.trip("accepts connections but did not answer in 2 s")
            return
        if not _loopback(host) or state == "up":
            return
        if not self.get_option("autostart"):
            self._display.warning(f"ARA's API server {endpoint} does not answer, so this run is not recorded: "
                                  "start it (make ara-start) or set JOHANN_ARA_AUTOSTART=true")
            return
        data_dir = self.get_option("data_dir")
        self._display.display(f"Starting ARA's API server at {endpoint} (data in {data_dir})", screen_only=True)
        try:
            problem = start_server(endpoint, data_dir, float(self.get_option("start_timeout")))
        except (OSError, subprocess.SubprocessError) as exc:
            problem = str(exc)
        if problem:
            self._display.warning(f"ARA's API server {endpoint} could not be started, so this run is not "
                                  f"recorded: {problem}. Fix that, or record with ARA's offline client "
                                  "(ARA_API_CLIENT=offline, slower).")

    def _ara_stopped_answering(self, breaker) -> None:
        self._display.warning(f"ARA's API server {breaker.endpoint} did not answer ({breaker.why}): the rest of this "
                              "run may not be recorded; ARA's requests now fail at once, with a new try every 30 s. "
                              "The report is still written (without history if ARA stays down).")
