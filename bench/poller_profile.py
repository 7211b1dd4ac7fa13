"""The shared poller's CPU per device, part by part, against the asyncio limits (issue 17).

    .venv/bin/python -m bench.poller_profile                       # 1000 devices: its own lab, every mode (~3 min)
    .venv/bin/python -m bench.poller_profile --devices 200 --modes parts,cprofile
    .venv/bin/python -m bench.poller_profile --inventory bench/work/p/lab/inventory.yml --modes inproc
    .venv/bin/python -m bench.poller_profile --collections /tmp/old/collections --modes inproc   # other code

Without ``--inventory`` it starts its own lab (``--devices``, profiles iosxe-17 : iosxe-16.12 : ietf = 2 : 1 : 1,
latency 0, 127.93.0.0/16, state in bench/work/poller-profile/) and stops it at the end. Every device is read the
way device_info reads it under ``playbooks/monitor.yml``: the options validated with the module's argument spec
(the worker's side), TLS verified against the lab CA, every section, ``result_format: json_gz``, at most
``--concurrency`` (50, ansible.cfg's forks) devices at a time in one asyncio loop. The modes:

* ``poller``: the real shared poller (``plugin_utils/_poller.py``'s ``main``, started the way a worker starts it)
  driven over its Unix socket by ``--concurrency`` threads standing for Ansible's forks; its own CPU (wait4):
  the figure ``make bench`` compares with the limits;
* ``inproc``: the same work in this process (``_tasks.device_info`` per device plus the poller's hand-over:
  the request's JSON decoded, the reply's encoded), nothing timed inside: process CPU per device;
* ``parts``: as ``inproc``, with CPU timers (``time.thread_time``) around the parts that are plain function
  calls: the TLS context (``client.ssl_context``), the TLS handshake and record layer (an ``ssl.SSLObject``
  subclass set as the context's ``sslobject_class``), JSON and XML decoding (``_restconf/decode.py``), the
  normalisers (``_device_info._Run._build``), alerts and result encoding (``_tasks._device_result``) and the
  hand-over; what is left is the HTTP machinery (httpx, httpcore, h11, anyio, the event loop, the client's own
  code), split by the next mode;
* ``cprofile``: the same under cProfile (on ``--profile-devices``): each library's own time (tottime), used
  only to split what ``parts`` leaves to the HTTP machinery (cProfile slows Python code more than C code, so its
  shares are approximate);
* ``limits``: ``bench/asyncio_limit.py`` with httpx and with aiohttp (the same GETs, JSON parsed, no
  normalising), each a process of its own: CPU by wait4.

Results: ``--json`` / ``--md`` (``make bench``'s poller stage writes ``bench/results/<date>-poller-stage.{md,json}``).
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import queue
import shutil
import ssl
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from bench import internals

ROOT = Path(__file__).resolve().parent.parent

NETWORK = "127.93.0.0/16"   # apart from the other benches (127.80, 127.87-89) and the tests (127.78)
MODES = ("limits", "poller", "inproc", "parts", "cprofile")
LIMIT_MODULE = "bench.asyncio_limit"   # run as python -m from ROOT
POLLER_CODE = internals.POLLER_CODE   # what _poller._start runs
PARTS = ("tls_context", "tls_handshake", "tls_records", "decode", "normalise", "alerts", "encode", "handover")
LABELS = {
    "tls_context": "TLS context (ssl_context: CA bundle, client certificate)",
    "tls_handshake": "TLS handshake (OpenSSL, certificate verification)",
    "tls_records": "TLS records (encrypt/decrypt: SSLObject read/write)",
    "decode": "JSON/XML decoding (_restconf/decode.py: bounds, duplicate members, json.loads)",
    "normalise": "normalisers (_Run._build: _normalise/*)",
    "alerts": "alerts (_alerts.evaluate)",
    "encode": "result encoding (json.dumps + gzip + base64: _tasks._device_result less alerts)",
    "handover": "hand-over (the poller's request decoded, its reply encoded: JSON)",
    "http": "HTTP machinery and event loop (what is left: aiohttp or httpcore/h11/anyio, httpx's models, asyncio, "
            "the client's own code)",
}
GROUPS = ("aiohttp", "httpx", "httpcore", "h11", "anyio", "asyncio event loop and sockets",
          "johann client and device_info", "other")


def _use_collections(path: Path) -> None:
    internals.use(path)


# ---------------------------------------------------------------- the devices and their options


def load_devices(inventory: Path, count: int | None) -> list[tuple[str, dict]]:
    """(inventory name, device_info's validated parameters) per device, as a worker hands them to the poller."""
    import yaml
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
    device_info_spec = internals.tasks.device_info_spec

    data = yaml.safe_load(inventory.read_text())
    variables = data["all"]["vars"]
    hosts: list[tuple[str, dict]] = []

    def walk(group: dict) -> None:
        hosts.extend((name, host or {}) for name, host in (group.get("hosts") or {}).items())
        for child in (group.get("children") or {}).values():
            walk(child or {})

    walk(data["all"])
    hosts.sort(key=lambda h: tuple(int(p) for p in h[1]["ansible_host"].split(".")) + (int(h[1]["ansible_port"]),))
    hosts = hosts[:count] if count else hosts
    args = {"host": "placeholder", "username": variables["ansible_user"], "password": variables["ansible_password"],
            "validate_certs": variables.get("restconf_validate_certs", True), "ca_path": variables["restconf_ca_path"],
            "result_format": "json_gz"}
    result = ArgumentSpecValidator(device_info_spec()).validate(args)   # once: only host and port differ
    if result.error_messages:
        raise SystemExit("; ".join(result.error_messages))
    return [(name, {**result.validated_parameters, "host": host["ansible_host"], "port": int(host["ansible_port"])})
            for name, host in hosts]


# ---------------------------------------------------------------- in-process runs


class Timers:
    """CPU seconds (this thread's) by part; ``wrap`` replaces a module attribute by a timed call."""

    def __init__(self) -> None:
        self.cpu: Counter = Counter()
        self.calls: Counter = Counter()
        self._undo: list = []

    def wrap(self, owner, name: str, part: str) -> None:
        original = getattr(owner, name)
        clock, cpu, calls = time.thread_time, self.cpu, self.calls

        def timed(*args, **kwargs):
            started = clock()
            try:
                return original(*args, **kwargs)
            finally:
                cpu[part] += clock() - started
                calls[part] += 1

        setattr(owner, name, timed)
        self._undo.append((owner, name, original))

    def restore(self) -> None:
        for owner, name, original in reversed(self._undo):
            setattr(owner, name, original)
        self._undo.clear()
        client = internals.client
        getattr(client, "_CONTEXTS", {}).clear()   # its contexts have the timed SSLObject class


def _timed_sslobject(timers: Timers) -> type:
    clock, cpu = time.thread_time, timers.cpu

    class TimedSSLObject(ssl.SSLObject):
        def do_handshake(self):
            started = clock()
            try:
                return super().do_handshake()
            finally:
                cpu["tls_handshake"] += clock() - started

        def read(self, *args):
            started = clock()
            try:
                return super().read(*args)
            finally:
                cpu["tls_records"] += clock() - started

        def write(self, data):
            started = clock()
            try:
                return super().write(data)
            finally:
                cpu["tls_records"] += clock() - started

    return TimedSSLObject


def instrument(timers: Timers) -> None:
    _device_info, _tasks, client, decode = internals.device_info, internals.tasks, internals.client, internals.decode

    sslobject = _timed_sslobject(timers)
    original = client.ssl_context
    getattr(client, "_CONTEXTS", {}).clear()   # a context kept from an earlier run would not be timed

    def ssl_context(*args, **kwargs):
        started = time.thread_time()
        try:
            context = original(*args, **kwargs)
            context.sslobject_class = sslobject
            return context
        finally:
            timers.cpu["tls_context"] += time.thread_time() - started
            timers.calls["tls_context"] += 1

    client.ssl_context = ssl_context
    timers._undo.append((client, "ssl_context", original))
    for name in ("decode_json", "parse_errors", "restconf_root"):
        timers.wrap(decode, name, "decode")
    timers.wrap(_device_info._Run, "_build", "normalise")
    timers.wrap(_tasks, "evaluate", "alerts")
    timers.wrap(_tasks, "_device_result", "encode")


async def poll_all(devices: list[tuple[str, dict]], concurrency: int, timers: Timers | None = None) -> Counter:
    """device_info for every device, ``concurrency`` at a time, each wrapped in the poller's hand-over."""
    device_info = internals.tasks.device_info

    gate = asyncio.Semaphore(concurrency)
    statuses: Counter = Counter()
    clock = time.thread_time

    async def one(name: str, params: dict) -> None:
        request = json.dumps({"protocol": 1, "op": "device_info", "params": params, "label": name},
                             separators=(",", ":")).encode()   # the worker's side: not the poller's CPU
        async with gate:
            started = clock()
            message = json.loads(request)
            handover = clock() - started
            result = await device_info(message["params"], message["label"])
            started = clock()
            json.dumps({"protocol": 1, "result": result}, separators=(",", ":")).encode()
            handover += clock() - started
        if timers is not None:
            timers.cpu["handover"] += handover
        statuses[result["status"]] += 1

    await asyncio.gather(*(one(name, params) for name, params in devices))
    return statuses


LOOP = "asyncio"   # --loop
WITHOUT = ("aiohttp", "context-cache")   # --without: the client's fast paths, one by one
WITHOUT_SET: list[str] = []


def without(names: list[str]) -> None:
    """Turn some of the client's fast paths off (issue 17: what each one saves, measured in the same run)."""
    client, transport = internals.client, internals.transport

    for name in names:
        if name == "aiohttp":   # httpx's own transport (httpcore, h11, anyio), called directly
            transport.AIOHTTP = None
        elif name == "context-cache":   # a TLS context made for every device, as before
            client.shared_ssl_context = lambda settings: client.ssl_context(settings)
        else:
            raise SystemExit(f"unknown --without {name!r}; choose from {', '.join(WITHOUT)}")


def loop_factory(name: str):
    """The event loop to poll on: asyncio's own (the poller's today), or uvloop."""
    if name == "uvloop":
        import uvloop
        return uvloop.new_event_loop
    return None


def run_inproc(devices: list[tuple[str, dict]], concurrency: int, timed: bool) -> dict:
    timers = Timers()
    if timed:
        instrument(timers)
    try:
        cpu0, wall0 = time.process_time(), time.monotonic()
        with asyncio.Runner(loop_factory=loop_factory(LOOP)) as runner:
            statuses = runner.run(poll_all(devices, concurrency, timers if timed else None))
        cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    finally:
        timers.restore()
    n = len(devices)
    row = {"devices": n, "cpu_s": round(cpu, 3), "wall_s": round(wall, 3), "cpu_ms_per_device": round(cpu / n * 1000, 2),
           "statuses": dict(statuses), "complete": statuses.get("ok", 0) == n}
    if timed:
        timers.cpu["encode"] -= timers.cpu["alerts"]   # evaluate runs inside _device_result
        parts = {p: round(timers.cpu[p] / n * 1000, 3) for p in PARTS}
        parts["http"] = round(cpu / n * 1000 - sum(parts.values()), 3)
        row["parts_ms_per_device"] = parts
        row["tls_contexts"] = timers.calls["tls_context"]
    return row


def _group(filename: str, name: str) -> str:
    """The part a Python function belongs to (C functions go to their callers' parts)."""
    if name == "do_handshake" or "sslproto" in filename or filename.endswith("ssl.py"):
        return "tls"
    for lib, group in (("httpx", "httpx"), ("httpcore", "httpcore"), ("h11", "h11"), ("anyio", "anyio"),
                       ("sniffio", "anyio"), ("aiohttp", "aiohttp"), ("yarl", "aiohttp"), ("multidict", "aiohttp"),
                       ("aiohappyeyeballs", "aiohttp")):
        if f"/{lib}/" in filename:
            return group
    if "/asyncio/" in filename or filename.endswith(("selectors.py", "socket.py")):
        return "asyncio event loop and sockets"
    if "_restconf/client.py" in filename or "_restconf/transport.py" in filename or "_device_info.py" in filename:
        return "johann client and device_info"
    if "_normalise" in filename or "decode.py" in filename or "/json/" in filename or "_tasks.py" in filename \
            or "_alerts.py" in filename or "gzip.py" in filename or "poller_profile.py" in filename:
        return "parts"
    return "other"


def run_cprofile(devices: list[tuple[str, dict]], concurrency: int) -> dict:
    """Each library's own time under cProfile: the shares of what is left to the HTTP machinery."""
    profile = cProfile.Profile()
    with asyncio.Runner(loop_factory=loop_factory(LOOP)) as runner:
        profile.enable()
        runner.run(poll_all(devices, concurrency))
        profile.disable()
    groups: Counter = Counter()
    top: Counter = Counter()
    for (filename, line, name), (_cc, _nc, tottime, _ct, callers) in pstats.Stats(profile).stats.items():
        if filename == "~":   # a C function (a socket call, json's scanner, OpenSSL): its callers' parts
            shares = [(_group(caller[0], caller[2]) if caller[0] != "~" else "other", stats[2])
                      for caller, stats in callers.items()]
            if "do_handshake" in name:
                shares = [("tls", tottime)]
        else:
            shares = [(_group(filename, name), tottime)]
        for group, seconds in shares:
            groups[group] += seconds
            if group in GROUPS:
                top[f"{Path(filename).name}:{line}({name})" if filename != "~" else name] += seconds
    http = sum(groups[g] for g in GROUPS)
    return {"devices": len(devices), "profiled_s": round(sum(groups.values()), 3),
            "shares_of_http": {g: round(groups[g] / http, 4) for g in GROUPS},
            "top_http_functions": [(k, round(v / len(devices) * 1000, 3)) for k, v in top.most_common(15)]}


# ---------------------------------------------------------------- other processes


def _wait4(proc: subprocess.Popen) -> tuple[int, float, float]:
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def run_limit(inventory: Path, devices: int, client: str, work: Path) -> dict:
    from bench.lab_process import inventory_subset

    names = [name for name, _ in load_devices(inventory, None)]
    sub = inventory if devices >= len(names) else inventory_subset(inventory, names[:devices],
                                                                  work / f"inventory-{devices}.yml")
    out = work / f"limit-{client}.json"
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", LIMIT_MODULE, "--inventory", str(sub), "--client", client,
                             "--loop", LOOP, "--json", str(out)], cwd=ROOT, stdout=subprocess.DEVNULL)
    rc, cpu, rss = _wait4(proc)
    wall = time.monotonic() - started
    summary = json.loads(out.read_text()) if out.exists() else {}
    return {"client": client, "devices": devices, "rc": rc, "cpu_s": round(cpu, 3), "wall_s": round(wall, 3),
            "cpu_ms_per_device": round(cpu / devices * 1000, 2), "peak_rss_mib": round(rss, 1),
            "requests": summary.get("requests"), "complete": rc == 0 and summary.get("read") == devices}


def run_poller(devices: list[tuple[str, dict]], concurrency: int, collections: Path, work: Path) -> dict:
    """The real shared poller process, driven by ``concurrency`` threads as Ansible's forks drive it."""
    _poller = internals.poller

    sock = work.resolve() / f"poller-{os.getpid()}.sock"
    sock.unlink(missing_ok=True)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(collections), os.environ.get("PYTHONPATH"))
                                                       if p))
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-c", POLLER_CODE, str(sock), str(os.getpid())], env=env, cwd="/",
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    while not sock.exists():
        if proc.poll() is not None or time.monotonic() - started > 20:
            raise RuntimeError("the poller did not start")
        time.sleep(0.01)
    ready_cpu = _proc_cpu(proc.pid)
    todo: queue.Queue = queue.Queue()
    for device in devices:
        todo.put(device)
    statuses: Counter = Counter()
    lock = threading.Lock()

    def fork() -> None:
        while True:
            try:
                name, params = todo.get_nowait()
            except queue.Empty:
                return
            with _poller._connect(sock) as conn:   # _poller._call, without its path rewriting and retries
                conn.settimeout(params["deadline"] + _poller.GRACE_S)
                _poller._send(conn, {"protocol": _poller.PROTOCOL, "op": "device_info", "params": params,
                                     "label": name})
                reply = _poller._recv(conn)
            with lock:
                statuses[reply.get("result", {}).get("status", "no result")] += 1

    wall0 = time.monotonic()
    threads = [threading.Thread(target=fork) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - wall0
    busy_cpu = _proc_cpu(proc.pid) - ready_cpu
    hwm = _hwm_mib(proc.pid)
    sock.unlink(missing_ok=True)   # the poller sees its socket gone and exits
    rc, cpu, _rss = _wait4(proc)
    n = len(devices)
    return {"devices": n, "cpu_s": round(cpu, 3), "cpu_polling_s": round(busy_cpu, 3), "wall_s": round(wall, 3),
            "cpu_ms_per_device": round(busy_cpu / n * 1000, 2), "startup_cpu_s": round(ready_cpu, 3),
            "peak_rss_mib": hwm, "rc": rc, "statuses": dict(statuses), "complete": statuses.get("ok", 0) == n}


def _proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _hwm_mib(pid: int) -> float | None:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


# ---------------------------------------------------------------- the whole run


def _median_row(rows: list[dict]) -> dict:
    """The round whose CPU per device is the median (the lower middle of an even count)."""
    ranked = sorted(rows, key=lambda row: row["cpu_ms_per_device"])
    return ranked[(len(ranked) - 1) // 2]


def interleaved(inventory: Path, loaded: list, rounds: int, concurrency: int, collections: Path, work: Path,
                out: dict) -> None:
    """The limits and the poller, ``rounds`` times in turn (the order reversed every other round): the median
    of each, and the ratio of each round, so that a shared machine's drift moves both sides alike."""
    runs: dict[str, list[dict]] = {"httpx": [], "aiohttp": [], "poller": []}
    for number in range(rounds):
        order = list(runs) if number % 2 == 0 else list(reversed(runs))
        for name in order:
            print(f"poller-profile: round {number + 1}/{rounds}: {name} ...", flush=True)
            row = run_poller(loaded, concurrency, collections, work) if name == "poller" else \
                run_limit(inventory, len(loaded), name, work)
            runs[name].append(row)
            print(f"poller-profile: round {number + 1}/{rounds}: {name}: {row['cpu_ms_per_device']} ms/device", flush=True)
    out["limits"] = {client: _median_row(runs[client]) for client in ("httpx", "aiohttp")}
    out["limits_loop"] = LOOP
    out["poller"] = _median_row(runs["poller"])
    out["rounds"] = {"count": rounds, **{f"{name}_cpu_ms_per_device": [r["cpu_ms_per_device"] for r in rows]
                                         for name, rows in runs.items()},
                     "poller_over_aiohttp": [round(p["cpu_ms_per_device"] / a["cpu_ms_per_device"], 2)
                                             for p, a in zip(runs["poller"], runs["aiohttp"], strict=True)],
                     "poller_over_httpx": [round(p["cpu_ms_per_device"] / h["cpu_ms_per_device"], 2)
                                           for p, h in zip(runs["poller"], runs["httpx"], strict=True)]}


def profile(inventory: Path, devices: int, modes: list[str], concurrency: int, profile_devices: int,
            collections: Path, work: Path, rounds: int = 1) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    loaded = load_devices(inventory, devices)
    out: dict = {"devices": len(loaded), "concurrency": concurrency, "modes": modes, "collections": str(collections),
                 "loop": LOOP, "without": WITHOUT_SET}
    # A monitor runs every few minutes: its steady state has each device's discovery from the run before
    # (device_info's discovery_cache). The cache is this bench's own, filled by one unmeasured pass.
    cache = work.resolve() / "discovery-cache"
    shutil.rmtree(cache, ignore_errors=True)
    os.environ["JOHANN_DISCOVERY_CACHE_DIR"] = str(cache)
    if any(m in modes for m in ("poller", "inproc", "parts", "cprofile")):
        print("poller-profile: filling the discovery cache (one pass, not measured) ...", flush=True)
        run_inproc(loaded, concurrency, timed=False)
        out["discovery_cache"] = len(list(cache.glob("*.json")))
    if rounds > 1 and "limits" in modes and "poller" in modes:
        interleaved(inventory, loaded, rounds, concurrency, collections, work, out)
        modes = [m for m in modes if m not in ("limits", "poller")]
    for mode in modes:
        print(f"poller-profile: {mode} ...", flush=True)
        if mode == "limits":
            out["limits"] = {c: run_limit(inventory, len(loaded), c, work) for c in ("httpx", "aiohttp")}
            out["limits_loop"] = LOOP
        elif mode == "poller":
            out["poller"] = run_poller(loaded, concurrency, collections, work)
        elif mode in ("inproc", "parts"):
            out[mode] = run_inproc(loaded, concurrency, timed=mode == "parts")
        elif mode == "cprofile":
            out["cprofile"] = run_cprofile(loaded[:profile_devices], concurrency)
        print(f"poller-profile: {mode}: {_brief(out[mode])}", flush=True)
    return analyse(out)


def _brief(row: dict) -> str:
    if "httpx" in row:
        return "; ".join(f"{c} {r['cpu_ms_per_device']} ms/device" for c, r in row.items())
    if "shares_of_http" in row:
        return ", ".join(f"{g} {s:.0%}" for g, s in row["shares_of_http"].items())
    return f"{row['cpu_ms_per_device']} ms/device, wall {row['wall_s']} s, {row['statuses']}"


def analyse(out: dict) -> dict:
    ratios = {}
    limits = out.get("limits", {})
    for mode in ("poller", "inproc"):
        if mode in out:
            for client, row in limits.items():
                ratios[f"{mode}_over_{client}"] = round(out[mode]["cpu_ms_per_device"] / row["cpu_ms_per_device"], 2)
    out["ratios"] = ratios
    parts = out.get("parts", {}).get("parts_ms_per_device")
    shares = out.get("cprofile", {}).get("shares_of_http")
    if parts and shares:
        out["http_split_ms_per_device"] = {g: round(parts["http"] * s, 2) for g, s in shares.items()}
    return out


def markdown(data: dict) -> list[str]:
    n = data["devices"]
    lines = ["## The shared poller's CPU per device (issue 17)", "",
             f"{n} lab devices (TLS verified, latency 0), every section, `result_format: json_gz`, "
             f"{data['concurrency']} devices at a time, event loop: {data.get('loop', 'asyncio')}"
             + (f", the client without {', '.join(data['without'])}" if data.get("without") else "")
             + ". CPU ms per device; the limits are bench/asyncio_limit.py (the same GETs, JSON parsed, not "
             "normalised, one process each)"
             + (f"; johann's discovery cache warm ({data['discovery_cache']} devices' root and YANG modules kept "
                "from an unmeasured pass before: each device asked for its module-set-id instead of host-meta and "
                "the YANG library, as in a monitor run every few minutes; the limits discover every time)"
                if data.get("discovery_cache") is not None else "") + ".", "",
             "| run | CPU ms / device | wall s | peak RSS MiB | complete |", "| --- | ---: | ---: | ---: | --- |"]
    for client, row in data.get("limits", {}).items():
        lines.append(f"| asyncio + {client} limit | {row['cpu_ms_per_device']} | {row['wall_s']} | "
                     f"{row['peak_rss_mib']} | {'yes' if row['complete'] else '**no**'} |")
    if "poller" in data:
        row = data["poller"]
        lines.append(f"| the shared poller process (driven by {data['concurrency']} threads) | "
                     f"{row['cpu_ms_per_device']} | {row['wall_s']} | {row['peak_rss_mib']} | "
                     f"{'yes' if row['complete'] else '**no**'} |")
    for mode, what in (("inproc", "device_info + hand-over in one process"),
                       ("parts", "the same, with the part timers")):
        if mode in data:
            row = data[mode]
            lines.append(f"| {what} | {row['cpu_ms_per_device']} | {row['wall_s']} | – | "
                         f"{'yes' if row['complete'] else '**no**'} |")
    if data.get("ratios"):
        lines += ["", "Ratios (CPU per device): " + ", ".join(f"{k.replace('_', ' ')} {v}x"
                                                             for k, v in data["ratios"].items()), ""]
    rounds = data.get("rounds")
    if rounds:
        lines += [f"The limits and the poller ran {rounds['count']} times in turn (the order reversed every other "
                  "round); the rows above are each one's median round. Each round:", "",
                  "| round | httpx limit | aiohttp reference | poller | poller over aiohttp | poller over httpx |",
                  "| ---: | ---: | ---: | ---: | ---: | ---: |"]
        for number in range(rounds["count"]):
            lines.append(f"| {number + 1} | {rounds['httpx_cpu_ms_per_device'][number]} | "
                         f"{rounds['aiohttp_cpu_ms_per_device'][number]} | {rounds['poller_cpu_ms_per_device'][number]} | "
                         f"{rounds['poller_over_aiohttp'][number]}x | {rounds['poller_over_httpx'][number]}x |")
        lines.append("")
    parts = data.get("parts", {}).get("parts_ms_per_device")
    if parts:
        lines += ["### Where the CPU goes (parts run)", "", "| part | CPU ms / device | share |", "| --- | ---: | ---: |"]
        total = data["parts"]["cpu_ms_per_device"]
        for part in (*PARTS, "http"):
            lines.append(f"| {LABELS[part]} | {parts[part]:.2f} | {parts[part] / total:.0%} |")
        lines.append(f"| **total** | **{total:.2f}** | |")
        split = data.get("http_split_ms_per_device")
        if split:
            lines += ["", f"The HTTP machinery's {parts['http']:.1f} ms split by cProfile's own time per library "
                      f"({data['cprofile']['devices']} devices; approximate):", "",
                      "| library | CPU ms / device |", "| --- | ---: |"]
            lines += [f"| {g} | {v:.2f} |" for g, v in split.items()]
            lines += ["", "Its top functions (own time under cProfile, ms per device, inflated by the profiler):", ""]
            lines += [f"- `{name}`: {ms}" for name, ms in data["cprofile"]["top_http_functions"]]
        lines.append("")
    return lines


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.poller_profile", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inventory", type=Path, help="a running lab's inventory (default: start a lab here)")
    parser.add_argument("--devices", type=int, default=1000, help="devices read (default 1000)")
    parser.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, of {', '.join(MODES)}")
    parser.add_argument("--concurrency", type=int, default=50, help="devices at a time (ansible.cfg's forks)")
    parser.add_argument("--profile-devices", type=int, default=200, help="devices read under cProfile")
    parser.add_argument("--collections", type=Path, default=ROOT / "collections",
                        help="the directory holding ansible_collections to load (another checkout's, to compare)")
    parser.add_argument("--work-dir", type=Path, default=ROOT / "bench" / "work" / "poller-profile")
    parser.add_argument("--without", default="", help=f"comma-separated fast paths of the client to turn off, of "
                        f"{', '.join(WITHOUT)} (the in-process modes; this checkout's client)")
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio",
                        help="the event loop of the in-process modes and the limits (the poller runs its own)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--md", type=Path, help="write the Markdown here")
    parser.add_argument("--results-dir", type=Path,
                        help="write <date>-poller-profile[-quick].{md,json} there, with the machine (make bench)")
    parser.add_argument("--quick", action="store_true", help="200 devices (make bench-quick)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run the limits and the poller this many times in turn; medians and each round's ratio")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.quick:
        args.devices = min(args.devices, 200)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        raise SystemExit(f"unknown mode {unknown[0]!r}; choose from {', '.join(MODES)}")
    _use_collections(args.collections.resolve())
    from bench import procfs
    global LOOP
    LOOP = args.loop
    if args.without:
        WITHOUT_SET[:] = [n.strip() for n in args.without.split(",") if n.strip()]
        without(WITHOUT_SET)
    started, clock = datetime.now(UTC), time.monotonic()
    busy, load = (procfs.machine_busy(), procfs.load_average()) if args.results_dir else (None, None)
    if args.inventory:
        data = profile(args.inventory, args.devices, modes, args.concurrency, args.profile_devices,
                       args.collections.resolve(), args.work_dir, args.rounds)
    else:
        from bench.lab_process import RunningLab

        class Lab(RunningLab):
            def argv(self) -> list[str]:
                argv = super().argv()
                argv[argv.index("--network") + 1] = NETWORK
                return argv

        with Lab(count=args.devices, work_dir=args.work_dir) as lab:
            assert lab.inventory is not None
            print(f"poller-profile: lab {lab.startup.ready_line if lab.startup else ''}", flush=True)
            data = profile(lab.inventory.path, args.devices, modes, args.concurrency, args.profile_devices,
                           args.collections.resolve(), args.work_dir, args.rounds)
    data["started"] = started.isoformat(timespec="seconds")
    if args.json:
        args.json.write_text(json.dumps(data, indent=2) + "\n")
    text = "\n".join(markdown(data)) + "\n"
    if args.md:
        args.md.write_text(text)
    elif not args.results_dir:
        print(text)
    if args.results_dir:
        from bench import results
        meta = {"started": started, "title": f"the shared poller's CPU per device ({data['devices']} devices)",
                "command": "python -m bench.poller_profile " + " ".join(sys.argv[1:] if argv is None else argv),
                "mode": "quick" if args.quick else "default", "total_s": round(time.monotonic() - clock, 1),
                "busy_before": busy, "load_average_start": load}
        _json, md = results.write(args.results_dir, "poller-profile-quick" if args.quick else "poller-profile", meta,
                                  [("poller", data, markdown)])
        print(f"results: {md}", flush=True)
    complete = all(data[m].get("complete", True) for m in ("poller", "inproc", "parts") if m in data)
    complete = complete and all(r["complete"] for r in data.get("limits", {}).values())
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())
