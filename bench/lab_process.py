"""Start the simulated lab as a child process for a benchmark, and always stop it.

The lab runs as ``python -m lab run`` in its own process (as in real use), so
its memory and CPU time can be read from /proc and it can be pinned to a core
apart from the load generator.  Every bench uses 127.80.0.0/16 and a state
directory under bench/work/, away from the demo lab (127.77) and the tests
(127.78).
"""
from __future__ import annotations

import selectors
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml

from bench import procfs

ROOT = Path(__file__).resolve().parent.parent
DISCOVERY_CACHE = ROOT / "bench" / "work" / "discovery-cache"   # device_info's, for every bench run (never ~/.cache)
NETWORK = "127.80.0.0/16"


@dataclass(frozen=True)
class Host:
    name: str
    address: str
    port: int
    profile: str
    platform: str


def _platform(host: dict) -> str:
    """The device's platform; the lab has named this variable both ways."""
    return host.get("lab_platform") or host["johann_platform"]


@dataclass
class Inventory:
    """What a client needs from the lab's generated inventory."""

    path: Path
    username: str
    password: str
    ca_path: Path
    hosts: list[Host]

    @classmethod
    def load(cls, path: Path) -> Inventory:
        data = yaml.safe_load(path.read_text())
        variables = data["all"]["vars"]
        hosts = [Host(name, h["ansible_host"], int(h["ansible_port"]), h["lab_profile"], _platform(h))
                 for group in data["all"]["children"]["lab"]["children"].values()
                 for name, h in group["hosts"].items()]
        hosts.sort(key=lambda h: tuple(int(part) for part in h.address.split(".")) + (h.port,))
        return cls(path, variables["ansible_user"], variables["ansible_password"],
                   Path(variables["restconf_ca_path"]), hosts)

    def of_profile(self, profile: str) -> list[Host]:
        return [h for h in self.hosts if h.profile == profile]


@dataclass
class Startup:
    """The lab's start, measured from outside (wall) and as it reports itself."""

    wall_s: float
    reported_s: float
    cpu_s: float
    vm_hwm_kib: int
    vm_rss_kib: int
    ready_line: str


@dataclass
class RunningLab:
    """``with RunningLab(count=1000) as lab:`` starts a cold lab and SIGTERMs it on exit."""

    count: int
    work_dir: Path
    mix: str = "iosxe-17=2,iosxe-16.12=1,ietf=1"
    latency_ms: float = 0.0
    ready_timeout_s: float = 180.0
    proc: subprocess.Popen | None = None
    startup: Startup | None = None
    inventory: Inventory | None = None
    admin_url: str = ""
    extra_args: list[str] = field(default_factory=list)

    @property
    def state_dir(self) -> Path:
        return self.work_dir / "lab"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def argv(self) -> list[str]:
        return [sys.executable, "-m", "lab", "run", "--count", str(self.count), "--mix", self.mix,
                "--network", NETWORK, "--state-dir", str(self.state_dir),
                "--inventory", str(self.state_dir / "inventory.yml"), "--admin-port", "0",
                *(["--latency-ms", str(self.latency_ms)] if self.latency_ms else []), *self.extra_args]

    def __enter__(self) -> RunningLab:
        # A cold start every time (certificates generated anew) keeps the startup figure comparable.
        shutil.rmtree(self.state_dir, ignore_errors=True)
        self.state_dir.mkdir(parents=True)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _start(self) -> None:
        log = open(self.work_dir / "lab.log", "w")  # the child writes it; our copy closes below
        started = time.monotonic()
        self.proc = subprocess.Popen(self.argv(), cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True,
                                     start_new_session=True)
        log.close()
        line = self._ready_line()
        wall = time.monotonic() - started
        # "READY <n> devices in <s>s; inventory <path>; CA <path>; admin http://127.0.0.1:<port>"
        parts = dict(part.strip().split(" ", 1) for part in line.split(";")[1:])
        self.admin_url = parts["admin"]
        self.inventory = Inventory.load(ROOT / parts["inventory"])
        self.startup = Startup(wall_s=round(wall, 2), reported_s=float(line.split(" in ")[1].split("s;")[0]),
                               cpu_s=procfs.cpu_seconds(self.pid),
                               vm_hwm_kib=procfs.status_kib(self.pid, "VmHWM"),
                               vm_rss_kib=procfs.status_kib(self.pid, "VmRSS"), ready_line=line)

    def _ready_line(self) -> str:
        """Wait for READY, bounded in time; a lab that dies or hangs fails the bench."""
        assert self.proc is not None and self.proc.stdout is not None
        deadline = time.monotonic() + self.ready_timeout_s
        with selectors.DefaultSelector() as selector:
            selector.register(self.proc.stdout, selectors.EVENT_READ)
            while time.monotonic() < deadline:
                if selector.select(timeout=1.0):
                    line = self.proc.stdout.readline()
                    if line.startswith("READY"):
                        return line.strip()
                    if not line and self.proc.poll() is not None:
                        break
        log = (self.work_dir / "lab.log").read_text()[-2000:]
        raise RuntimeError(f"the lab did not get ready in {self.ready_timeout_s:.0f} s; lab.log:\n{log}")

    def stop(self) -> None:
        """SIGTERM (the lab's clean stop), then SIGKILL after 20 s."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def stats(self) -> dict:
        """The admin API's request counters: a server-side count to check the client's against."""
        reply = httpx.get(self.admin_url + "/stats", timeout=30)
        reply.raise_for_status()
        return reply.json()


def inventory_subset(inventory: Path, hosts: list[str], path: Path) -> Path:
    """The lab inventory ``inventory`` with only ``hosts`` in it (empty groups dropped), written to ``path``."""
    keep = set(hosts)
    data = yaml.safe_load(inventory.read_text())
    groups = data["all"]["children"]["lab"]["children"]
    for name in list(groups):
        mine = {h: v for h, v in (groups[name].get("hosts") or {}).items() if h in keep}
        if mine:
            groups[name]["hosts"] = mine
        else:
            del groups[name]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    path.chmod(0o600)
    return path
