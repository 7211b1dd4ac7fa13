"""Start and drive a lab fleet from tests: a real process, real TLS, real sockets."""
from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[1]
JSON = "application/yang-data+json"
EPOCH = 1795000000.0  # 2026-11-18T11:06:40Z: a fixed, frozen lab clock makes values exact
# ARA is off in the runs tests start unless a test asks for it (ara=True, with its own server: see
# tests/integration/test_history.py): the project's ansible.cfg records every run into the
# user's local ARA server, which a test must never touch.
ARA_OFF = {"ANSIBLE_CALLBACK_PLUGINS": "/nonexistent"}


@dataclass
class RunningLab:
    process: subprocess.Popen
    state_dir: Path
    inventory: dict
    admin_url: str

    @property
    def ca_path(self) -> str:
        return self.inventory["all"]["vars"]["restconf_ca_path"]

    @property
    def auth(self) -> tuple[str, str]:
        v = self.inventory["all"]["vars"]
        return v["ansible_user"], v["ansible_password"]

    def host(self, name: str) -> dict:
        for group in self.inventory["all"]["children"]["lab"]["children"].values():
            if name in group["hosts"]:
                return group["hosts"][name]
        raise KeyError(name)

    def base_url(self, name: str) -> str:
        h = self.host(name)
        return f"https://{h['ansible_host']}:{h['ansible_port']}"

    def tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_path)

    def client(self, name: str, timeout: float = 5.0, **kwargs) -> httpx.Client:
        kwargs.setdefault("verify", self.tls())
        kwargs.setdefault("auth", self.auth)
        kwargs.setdefault("headers", {"Accept": JSON})
        return httpx.Client(base_url=self.base_url(name), timeout=timeout, **kwargs)

    def admin(self, method: str, path: str, **kwargs) -> httpx.Response:
        reply = httpx.request(method, self.admin_url + path, timeout=10, **kwargs)
        reply.raise_for_status()
        return reply

    def truth(self, name: str) -> dict:
        return self.admin("GET", f"/devices/{name}/truth").json()

    def advance(self, seconds: float) -> float:
        return self.admin("POST", "/clock", json={"advance": seconds}).json()["now"]

    def stderr(self) -> str:
        return (self.state_dir / "lab.stderr").read_text()

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(15)


def start_lab(fleet: Path, state_dir: Path, *extra: str, timeout: float = 60) -> RunningLab:
    """Run ``python -m lab run`` and wait for its READY line (fails loudly, never skips)."""
    inventory = state_dir / "inventory.yml"
    cmd = [sys.executable, "-m", "lab", "run", "--fleet", str(fleet), "--state-dir", str(state_dir),
           "--inventory", str(inventory), "--admin-port", "0", *extra]
    state_dir.mkdir(parents=True, exist_ok=True)
    stderr = open(state_dir / "lab.stderr", "w")  # noqa: SIM115 - lives as long as the lab
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr, text=True,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    deadline = time.monotonic() + timeout
    line = proc.stdout.readline()
    if not line.startswith("READY") or time.monotonic() > deadline:
        proc.kill()
        raise RuntimeError(f"the lab did not start: {line!r}\n{(state_dir / 'lab.stderr').read_text()[-3000:]}")
    state = json.loads((state_dir / "lab.json").read_text())
    return RunningLab(proc, state_dir, yaml.safe_load(inventory.read_text()), state["admin_url"])


def ansible_playbook(playbook: Path, *args: str, extra_env: dict | None = None,
                     ara: bool = False) -> subprocess.CompletedProcess:
    """``ansible-playbook`` of the venv running the tests, with the project's ansible.cfg, from the project's root.

    ``args`` name the inventory (``-i``) and the rest; ARA is off unless ``ara`` (then the ARA_* and JOHANN_ARA_*
    variables of the environment and ``extra_env`` say where it records)."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="false", **({} if ara else ARA_OFF), **(extra_env or {}))
    for name in [k for k in env if k.startswith(("ARA_", "JOHANN_ARA_")) and not ara]:
        del env[name]
    ansible = Path(sys.executable).with_name("ansible-playbook")
    return subprocess.run([str(ansible), str(playbook), *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, env=env)


def localhost_inventory(directory: Path) -> Path:
    """An inventory of the controller only (local connection, this venv's Python), for playbooks of localhost."""
    path = directory / "localhost.yml"
    path.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
    return path
