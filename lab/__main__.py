"""``python -m lab``: start, stop and inspect a simulated RESTCONF fleet.

    python -m lab run   --fleet lab/fleets/demo.yml      # foreground, Ctrl-C or SIGTERM stops it
    python -m lab start --count 100 --mix iosxe-17=2,ietf=1 --latency-ms 50 --ssh
    python -m lab status
    python -m lab stop
"""
from __future__ import annotations

import argparse
import asyncio
import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from lab.app import run, state_file
from lab.fleet import FleetError, fleet_from_flags, load_fleet
from lab.model import Clock


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lab", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("run", "start"):
        cmd = sub.add_parser(name, help=f"{name} a fleet ({'foreground' if name == 'run' else 'background'})")
        cmd.add_argument("--fleet", type=Path, help="fleet file (YAML); see lab/fleets/")
        cmd.add_argument("--count", type=int, default=10, help="devices, when no --fleet (default 10)")
        cmd.add_argument("--mix", default="iosxe-17=2,iosxe-16.12=1,ietf=1",
                         help="profile=weight,... when no --fleet")
        cmd.add_argument("--latency-ms", type=float, default=0, help="fixed latency of every device")
        cmd.add_argument("--jitter-ms", type=float, default=0, help="random extra latency, up to this")
        cmd.add_argument("--seed", type=int, help="seed of the living state (default: the fleet's, else 1)")
        cmd.add_argument("--network", help="loopback network for device addresses (default 127.77.0.0/16)")
        cmd.add_argument("--port", type=int, help="device port, or the first port with --addressing port (8443)")
        cmd.add_argument("--addressing", choices=("address", "port"),
                         help="one loopback address per device (default) or one port per device")
        cmd.add_argument("--ssh", action=argparse.BooleanOptionalAction,
                         help="IOS XE devices also serve an SSH CLI (default: the fleet file's `ssh`, else off)")
        cmd.add_argument("--ssh-port", type=int,
                         help="SSH port, or the first SSH port with --addressing port (default 2222)")
        cmd.add_argument("--state-dir", type=Path, default=Path(".lab"), help="CA, certificates, credentials")
        cmd.add_argument("--inventory", type=Path, default=Path("inventory/lab.yml"))
        cmd.add_argument("--admin-port", type=int, default=0, help="admin API port on 127.0.0.1 (0: any)")
        cmd.add_argument("--epoch", type=float, help="start the lab clock at this Unix time")
        cmd.add_argument("--frozen", action="store_true", help="freeze the lab clock (tests)")
    for name in ("stop", "status", "probe"):
        cmd = sub.add_parser(name, help=f"{name} the background fleet of a state directory")
        cmd.add_argument("--state-dir", type=Path, default=Path(".lab"))
    return parser


def _fleet(args):
    settings = {k: v for k, v in (("seed", args.seed), ("network", args.network), ("port", args.port),
                                  ("addressing", args.addressing), ("ssh", args.ssh), ("ssh_port", args.ssh_port))
                if v is not None}
    if args.fleet:
        return load_fleet(args.fleet, settings)
    faults = {}
    if args.latency_ms:
        faults["latency_ms"] = args.latency_ms
    if args.jitter_ms:
        faults["jitter_ms"] = args.jitter_ms
    return fleet_from_flags(args.count, args.mix, faults, settings)


def _running(state_dir: Path) -> dict | None:
    path = state_file(state_dir)
    if not path.exists():
        return None
    state = json.loads(path.read_text())
    try:
        os.kill(state["pid"], 0)
    except ProcessLookupError:
        path.unlink(missing_ok=True)
        return None
    return state


def _start(args, argv: list[str]) -> int:
    if (state := _running(args.state_dir)):
        print(f"a lab is already running (pid {state['pid']}); `python -m lab stop` first", file=sys.stderr)
        return 1
    args.state_dir.mkdir(parents=True, exist_ok=True)
    log = open(args.state_dir / "lab.log", "w")
    child_argv = [sys.executable, "-m", "lab", "run", *argv[1:]]
    proc = subprocess.Popen(child_argv, stdout=subprocess.PIPE, stderr=log, text=True, start_new_session=True)
    line = proc.stdout.readline()
    if not line.startswith("READY"):
        proc.wait(10)
        print(f"the lab did not start; see {args.state_dir / 'lab.log'}:\n"
              + (args.state_dir / "lab.log").read_text()[-2000:], file=sys.stderr)
        return 1
    print(line.strip())
    return 0


def _stop(args) -> int:
    state = _running(args.state_dir)
    if not state:
        print("no lab is running")
        return 0
    os.kill(state["pid"], signal.SIGTERM)
    for _ in range(100):
        if _running(args.state_dir) is None:
            print(f"lab (pid {state['pid']}) stopped")
            return 0
        time.sleep(0.1)
    os.kill(state["pid"], signal.SIGKILL)
    state_file(args.state_dir).unlink(missing_ok=True)
    print(f"lab (pid {state['pid']}) killed after 10 s")
    return 0


def _loop_runner():
    """uvloop when installed (its TLS is about twice as fast), else asyncio."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run
    return uvloop.run


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = _parser().parse_args(argv)
    if args.command == "stop":
        return _stop(args)
    if args.command == "probe":
        state = _running(args.state_dir)
        if not state:
            print("no lab is running: `make lab-start` or `python -m lab start` first", file=sys.stderr)
            return 1
        from lab.probe import main as probe
        return probe(Path(state["inventory"]))
    if args.command == "status":
        state = _running(args.state_dir)
        print(json.dumps(state, indent=2) if state else "no lab is running")
        return 0 if state else 1
    try:
        fleet = _fleet(args)
    except (FleetError, OSError) as exc:
        print(f"lab: {exc}", file=sys.stderr)
        return 2
    if args.command == "start":
        return _start(args, argv)
    clock = Clock(epoch=args.epoch, frozen=args.frozen)
    try:
        return _loop_runner()(run(fleet, args.state_dir, args.inventory, args.admin_port, clock))
    except OSError as exc:
        hint = ""
        if exc.errno == errno.EADDRINUSE:
            hint = (f"; another lab (or another checkout's) may be running on {fleet.network}: see "
                    "`python -m lab status` / `make lab-stop` there, or give this one another network "
                    "(--network 127.78.0.0/16; make demo LAB_ARGS='--network 127.78.0.0/16')")
        print(f"lab: cannot listen: {exc}{hint}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
