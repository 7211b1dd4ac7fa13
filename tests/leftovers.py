"""What a test run leaves behind, read from /proc: its processes still alive, and listeners on the user's defaults.

tests/conftest.py marks the run (``MARK``, an environment variable every process it starts inherits) and, when the
run ends, fails it with ``report()`` when ``left_behind()`` finds anything:

- a process of the run still alive: a descendant of the pytest process, a process of its process group started
  after it, or any process whose environment carries the run's mark (a daemon that left the process tree:
  ``gunicorn --daemon``, ``pg_ctl``'s PostgreSQL, a lab started with ``python -m lab start``);
- anything listening on the user-facing defaults: ARA's server at 127.0.0.1:8055 (``make ara-start``,
  ``ansible.cfg``) and the demo lab's network 127.77.0.0/16 (``make demo``), except what already listened there
  when the run started (a user's own demo is not the run's).
"""
from __future__ import annotations

import contextlib
import ipaddress
import os
import signal
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

MARK = "PYTEST_JOHANN_RUN"   # not ARA_*, ANSIBLE_* or JOHANN_*: tests strip those from the environments they build
USER_PORTS = frozenset({8055})                               # ARA's server (Makefile ARA_SERVER, ansible.cfg)
USER_NETWORKS = (ipaddress.ip_network("127.77.0.0/16"),)     # the demo lab (lab/fleet.py, make demo)
# Python's helpers that live as long as the pytest process itself and end with it
HELPERS = ("multiprocessing.resource_tracker", "multiprocessing.forkserver")
TCP_LISTEN = "0A"


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    pgid: int
    start: int      # clock ticks after boot (/proc/<pid>/stat field 22)
    state: str
    cmdline: str


@dataclass(frozen=True)
class Listener:
    address: str    # "127.0.0.1:8055", "[::1]:8055"
    inode: int
    pids: tuple[int, ...]


@dataclass(frozen=True)
class Finding:
    pid: int | None
    cmdline: str
    why: str        # "a process of the test run (...)", "listens on 127.0.0.1:8055, ...", ...
    of_run: bool = True   # a process the run started (stop() may end it); False: only a listener seen

    def line(self) -> str:
        command = self.cmdline.replace("\n", "\\n") if self.cmdline else "(no command line)"
        command = command if len(command) <= 400 else command[:400] + "..."
        return f"pid {self.pid if self.pid is not None else '?'}: {self.why}: {command}"


def read_proc(pid: int) -> Proc | None:
    """One process from /proc, None when it is gone (or unreadable)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()   # the name in parentheses may hold spaces
    cmdline = raw.rstrip(b"\0").replace(b"\0", b" ").decode(errors="replace")
    return Proc(pid, int(fields[1]), int(fields[2]), int(fields[19]), fields[0], cmdline)


def processes() -> dict[int, Proc]:
    table = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and (proc := read_proc(int(entry.name))) is not None:
            table[proc.pid] = proc
    return table


def ancestors(pid: int, table: dict[int, Proc]) -> set[int]:
    found, seen = set(), pid
    while seen in table and table[seen].ppid not in found and table[seen].ppid > 0:
        seen = table[seen].ppid
        found.add(seen)
    return found


def descendants(pid: int, table: dict[int, Proc]) -> set[int]:
    children: dict[int, list[int]] = {}
    for proc in table.values():
        children.setdefault(proc.ppid, []).append(proc.pid)
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def carries_mark(pid: int, mark: str) -> bool:
    """The process was started with ``MARK=mark`` in its environment (inherited from the run)."""
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False
    return f"\0{MARK}={mark}\0".encode() in b"\0" + environ + b"\0"


def run_processes(root: int, mark: str, table: dict[int, Proc] | None = None) -> list[Finding]:
    """The live processes of the run rooted at the pytest process ``root`` (itself and its ancestors excepted)."""
    table = processes() if table is None else table
    if root not in table:
        return []
    mine = descendants(root, table)
    skip = {root} | ancestors(root, table)
    found = []
    for pid, proc in sorted(table.items()):
        if pid in skip or proc.state in ("Z", "X") or any(h in proc.cmdline for h in HELPERS if proc.ppid == root):
            continue
        if pid in mine:
            why = f"a process of the test run (descendant of pytest, pid {root})"
        elif proc.pgid == table[root].pgid and proc.start > table[root].start:
            why = f"a process of the test run (pytest's process group {proc.pgid}, started after it)"
        elif carries_mark(pid, mark):
            why = f"a process of the test run (its environment has {MARK}={mark}; it left the process tree)"
        else:
            continue
        found.append(Finding(pid, proc.cmdline, why))
    return found


def _address(hex_address: str) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]:
    """An address of /proc/net/tcp{,6}: the IP in the kernel's byte order, 32 bits at a time, then the port."""
    ip_hex, port_hex = hex_address.split(":")
    raw = bytes.fromhex(ip_hex)
    packed = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    return ipaddress.ip_address(packed), int(port_hex, 16)


def _socket_owners() -> dict[int, list[int]]:
    """Socket inode -> the pids that hold it open."""
    owners: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            fds = os.scandir(f"/proc/{entry.name}/fd")
        except OSError:
            continue
        with fds:
            for fd in fds:
                try:
                    target = os.readlink(fd.path)
                except OSError:
                    continue
                if target.startswith("socket:["):
                    owners.setdefault(int(target[8:-1]), []).append(int(entry.name))
    return owners


def listeners(proc_net: Iterable[Path] = (Path("/proc/net/tcp"), Path("/proc/net/tcp6"))) -> list[Listener]:
    """Every listening TCP socket of this network namespace, with the processes that hold it."""
    found = []
    owners: dict[int, list[int]] | None = None
    for path in proc_net:
        try:
            lines = path.read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] != TCP_LISTEN:
                continue
            ip, port = _address(fields[1])
            owners = _socket_owners() if owners is None else owners
            inode = int(fields[9])
            shown = f"[{ip}]:{port}" if ip.version == 6 else f"{ip}:{port}"
            found.append(Listener(shown, inode, tuple(sorted(set(owners.get(inode, []))))))
    return found


def on_user_defaults(address: str, ports: frozenset[int] = USER_PORTS,
                     networks: tuple = USER_NETWORKS) -> bool:
    """``address`` ("ip:port", "[ip]:port") is a user-facing default: a watched port on loopback or on every
    address, or any port in a watched network (IPv4-mapped IPv6 addresses count as their IPv4 address)."""
    host, port = address.rsplit(":", 1)
    ip = ipaddress.ip_address(host.strip("[]"))
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if int(port) in ports and (ip.is_loopback or ip.is_unspecified):
        return True
    return any(ip in network for network in networks if network.version == ip.version)


def watched_listeners(ports: frozenset[int] = USER_PORTS, networks: tuple = USER_NETWORKS) -> list[Listener]:
    return [listener for listener in listeners() if on_user_defaults(listener.address, ports, networks)]


def left_behind(root: int, mark: str, before: set[int], ports: frozenset[int] = USER_PORTS,
                networks: tuple = USER_NETWORKS) -> list[Finding]:
    """The run's live processes, and the listeners on the user's defaults that were not there (by socket inode)
    when the run started."""
    found = run_processes(root, mark)
    for listener in watched_listeners(ports, networks):
        if listener.inode in before:
            continue
        for pid in listener.pids or (None,):
            proc = read_proc(pid) if pid is not None else None
            found.append(Finding(pid, proc.cmdline if proc else "", f"listens on {listener.address}, a user-facing "
                                                                    f"default (ARA's 8055, the demo lab's 127.77/16)",
                                 of_run=False))
    return found


def wait_for_none(root: int, mark: str, before: set[int], grace: float = 10.0, **watch) -> list[Finding]:
    """left_behind() after at most ``grace`` seconds: what ends by itself (a poller after its run, a server
    shutting down after SIGTERM) is given that long; PERSISTENT_GRACE when all that is left is netcommon's
    persistent connection daemons, which Ansible keeps for 30 s after the run that used them."""
    started = time.monotonic()
    while True:
        found = left_behind(root, mark, before, **watch)
        waited = time.monotonic() - started
        if not found or waited >= grace and (waited >= PERSISTENT_GRACE or not all(map(_persistent, found))):
            return found
        time.sleep(0.2)


PERSISTENT_GRACE = 40.0   # ansible.netcommon's connection daemon ends persistent_connect_timeout (30 s) after its run


def _persistent(finding: Finding) -> bool:
    """A persistent connection daemon (ansible-connection) of a netcommon run: it ends by itself, later."""
    return finding.of_run and "ansible_connection_cli_stub" in finding.cmdline


def stop(found: list[Finding], wait: float = 5.0) -> list[int]:
    """End the run's own processes among ``found`` (SIGTERM, then SIGKILL after ``wait`` s); the pids ended.
    A listener that is not the run's process is left alone."""
    pids = sorted({f.pid for f in found if f.of_run and f.pid is not None})
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + wait
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in pids:
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
    return pids


def _alive(pid: int) -> bool:
    proc = read_proc(pid)
    if proc is not None and proc.state == "Z":
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)   # our own child: reap it
        return False
    return proc is not None


def report(found: list[Finding]) -> list[str]:
    return ["The test run left these behind (tests must stop every process they start, and never use the user's",
            "defaults: ARA at 127.0.0.1:8055, the demo lab on 127.77.0.0/16):",
            *(f"  {finding.line()}" for finding in found)]
