"""``make bench`` / ``make bench-quick``: benchmarks of the lab, then the monitor over a fleet against its alternatives.

    .venv/bin/python -m bench.run              # lab ~2 min (1000 devices), fleet ~17 min on 2 cores
    .venv/bin/python -m bench.run --quick      # lab under a minute (200 devices), fleet under 3 min
    .venv/bin/python -m bench.run --skip-fleet # the lab, then ARA's overhead stage (~20 min) instead
    .venv/bin/python -m bench.run --ara-stage  # the fleet and the ARA overhead stage both (~37 min)
    .venv/bin/python -m bench.run --skip-ara-db  # without ARA's backends stage (off / SQLite / PostgreSQL, ~6 min)
    .venv/bin/python -m bench.run --scale      # then the scale stage too: 1000, 3000, 10,000 devices (~45 min)
    .venv/bin/python -m bench.run --scale-only --scale-sizes 1000,3000   # the scale stage alone

Stages, each with its own lab: the lab and netcommon interop (bench/lab_bench.py, netcommon_bench.py:
<date>-lab[-quick].{md,json}); the fleet (bench/fleet_bench.py: Ansible's no-op floor, monitor.yml
with ARA off and on, the asyncio limit at 100, 300, 1000 devices and 0 / 50 ms, ansible.netcommon at 20:
<date>-fleet[-quick].{md,json,png}); the poller (bench/poller_profile.py: the shared poller's CPU per device
against the asyncio + httpx limit and the aiohttp reference, and where it goes, part by part, at 1000 devices
(quick 200): <date>-poller-profile[-quick].{md,json}; --skip-poller); ARA's overhead (bench/ara_overhead.py: repeats and the offline
variant: <date>-ara[-quick].{md,json}); ARA's backends (bench/ara_backends.py: ARA off, the SQLite server and
PostgreSQL at 1000 devices, the database's size per run: <date>-ara-db[-quick].{md,json}); with --scale, the scale stage (bench/scale_bench.py: monitor.yml at
1000, 3000 and 10,000 devices, wall, CPU and peak memory of each controller process: <date>-scale[-quick].{md,json};
--quick: 100 and 300). The fleet stage's ARA off/on runs measure what the ARA stage
measures (and check ARA's recording the same way), so by default only one of the two runs: the fleet,
unless --skip-fleet or --ara-stage. Scratch (lab state, wrk and ansible logs) goes to bench/work/.
Each part is a module with ``run(...) -> dict`` and ``markdown(dict) -> list[str]``.
"""
from __future__ import annotations

import argparse
import sys
import time

from bench import (
    ara_backends,
    ara_overhead,
    fleet_bench,
    lab_bench,
    netcommon_bench,
    poller_profile,
    procfs,
    results,
    scale_bench,
)
from bench.lab_process import RunningLab

QUIET = 0.1  # share of the machine's CPU that others may use before a run without skewing it much


def _parser() -> argparse.ArgumentParser:
    parser = results.parser("run", __doc__)
    parser.add_argument("--quick", action="store_true", help="200 devices and 5 s runs (under 3 minutes)")
    parser.add_argument("--devices", type=int, help="lab size (default 1000, quick 200)")
    parser.add_argument("--skip-netcommon", action="store_true", help="leave out the ansible.netcommon interop step")
    parser.add_argument("--skip-ara", action="store_true",
                        help="leave out ARA's overhead stage (bench/ara_overhead.py) even with --skip-fleet")
    parser.add_argument("--ara-stage", action="store_true",
                        help="run ARA's overhead stage as well as the fleet stage (default: the fleet stage's ARA "
                             "off/on runs stand for it; it runs only with --skip-fleet)")
    parser.add_argument("--skip-ara-db", action="store_true",
                        help="leave out ARA's backends stage (bench/ara_backends.py: off vs SQLite vs PostgreSQL)")
    parser.add_argument("--skip-fleet", action="store_true",
                        help="leave out the fleet stage (bench/fleet_bench.py: floor, monitor.yml, asyncio, netcommon)")
    parser.add_argument("--skip-poller", action="store_true",
                        help="leave out the poller stage (bench/poller_profile.py: the shared poller's CPU per device "
                             "against the asyncio + httpx limit and the aiohttp reference, part by part; ~3 min)")
    parser.add_argument("--scale", action="store_true",
                        help="also run the scale stage (bench/scale_bench.py: 1000, 3000, 10,000 devices, each "
                             "controller process's CPU and memory; ~45 min; quick: 100, 300)")
    parser.add_argument("--scale-only", action="store_true", help="run the scale stage and nothing else")
    parser.add_argument("--scale-sizes", help="the scale stage's sizes (default 1000,3000,10000)")
    parser.add_argument("--wait-quiet", type=float, default=0, metavar="SECONDS",
                        help="first wait up to this long for the machine to be idle (others' work skews figures)")
    return parser


def _config(args: argparse.Namespace) -> lab_bench.LabBenchConfig:
    cfg = lab_bench.QUICK if args.quick else lab_bench.DEFAULT
    if args.devices:
        cfg = lab_bench.LabBenchConfig(**{**cfg.__dict__, "devices": args.devices,
                                          "spread_devices": min(cfg.spread_devices, args.devices)})
    return cfg


def run_lab_parts(args: argparse.Namespace, cfg: lab_bench.LabBenchConfig) -> list[results.Section]:
    """Everything that needs the lab, on one lab started here and stopped even on errors."""
    work = args.work_dir / "lab-bench"
    work.mkdir(parents=True, exist_ok=True)
    sections: list[results.Section] = []
    with RunningLab(count=cfg.devices, work_dir=work) as lab:
        print(f"lab: {lab.startup.ready_line if lab.startup else ''}", flush=True)
        data = lab_bench.run(lab, cfg, work)
        sections.append(("lab", data, lab_bench.markdown))
        print(f"lab: {_summary(data)}", flush=True)
        if not args.skip_netcommon:
            nc = netcommon_bench.run(lab, work)
            sections.append(("netcommon", nc, netcommon_bench.markdown))
            print(f"netcommon: {'pass' if nc['passed'] else 'FAIL'} in {nc['wall_s']} s; "
                  f"wrong CA rejected: {nc['wrong_ca_rejected']}", flush=True)
    return sections


def _summary(data: dict) -> str:
    small, big = data["wrk_small"], data["wrk_big"]
    rates = (f"small {small['wrk']['requests_per_s']:.0f}/s, big {big['wrk']['requests_per_s']:.0f}/s (wrk); "
             if "wrk" in small else "wrk skipped; ")
    return (f"{data['sweep']['answered']}/{data['sweep']['devices']} answered; {rates}"
            + ", ".join(f"spread {sp['requests_per_s']:.0f}/s ({name})" for name, sp in data["spread"].items()))


def _failed(sections: list[results.Section]) -> list[str]:
    failed = []
    for key, data, _ in sections:
        for name, ok in data.get("checks", {}).items():
            if not ok and not name.startswith("small_gets_at_least"):  # a target, reported not enforced
                failed.append(f"{key}: {name}")
        if key == "netcommon" and not (data["passed"] and data["wrong_ca_rejected"]):
            failed.append("netcommon interop")
    return failed


def wait_quiet(limit_s: float) -> float:
    """The machine's busy share just before the bench, after waiting (bounded) for it to drop."""
    deadline = time.monotonic() + limit_s
    busy = procfs.machine_busy()
    while busy > QUIET and time.monotonic() < deadline:
        print(f"the machine is {busy:.0%} busy; waiting for it to be quiet", flush=True)
        time.sleep(10)
        busy = procfs.machine_busy()
    return busy


def _scale_args(args: argparse.Namespace) -> list[str]:
    scale_args = ["--results-dir", str(args.results_dir), "--work-dir", str(args.work_dir)]
    scale_args += ["--quick"] if args.quick else []
    return scale_args + (["--sizes", args.scale_sizes] if args.scale_sizes else [])


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    cfg = _config(args)
    busy = wait_quiet(args.wait_quiet)
    if args.scale_only:
        return scale_bench.main(_scale_args(args))
    started = results.Started(busy)
    sections = run_lab_parts(args, cfg)
    meta = started.meta(f"the lab ({cfg.devices} devices) and netcommon interop", results.command("run", argv),
                        args.quick)
    json_path, md_path = results.write(args.results_dir, "lab-quick" if args.quick else "lab", meta, sections)
    print(f"results: {md_path} and {json_path.name}")
    failed = _failed(sections)
    if not args.skip_fleet:
        fleet_args = ["--results-dir", str(args.results_dir), "--work-dir", str(args.work_dir)]
        fleet_args += ["--quick"] if args.quick else []
        if fleet_bench.main(fleet_args):
            failed.append("fleet: an incomplete run")
    if not args.skip_poller:
        poller_args = ["--results-dir", str(args.results_dir), "--work-dir", str(args.work_dir / "poller-profile")]
        poller_args += ["--quick"] if args.quick else ["--rounds", "3"]   # 3 rounds: medians on a shared machine
        poller_args += ["--devices", str(args.devices)] if args.devices else []
        if poller_profile.main(poller_args):
            failed.append("poller: an incomplete run")
    if not args.skip_ara and (args.skip_fleet or args.ara_stage):
        ara_args = ["--results-dir", str(args.results_dir), "--work-dir", str(args.work_dir)]
        ara_args += ["--quick"] if args.quick else []
        ara_args += ["--devices", str(args.devices)] if args.devices else []
        if ara_overhead.main(ara_args):
            failed.append("ara: incomplete recording")
    if not args.skip_ara_db:
        db_args = ["--results-dir", str(args.results_dir), "--work-dir", str(args.work_dir)]
        db_args += ["--quick"] if args.quick else []
        db_args += ["--devices", str(args.devices)] if args.devices else []
        if ara_backends.main(db_args):
            failed.append("ara-db: incomplete recording")
    if args.scale and scale_bench.main(_scale_args(args)):
        failed.append("scale: an incomplete run")
    if failed:
        print("FAILED: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
