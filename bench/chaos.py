"""make chaos: the monitor against devices and a controller that misbehave (issue 12).

Every case runs the real ``playbooks/monitor.yml`` (ARA off unless the case is about ARA)
against a lab over TLS, and records its wall time, the peak RSS of every controller process
(Ansible's main process, its workers and report writers, the shared poller), the devices'
statuses and causes, and what was lost.

* device cases (bench/chaos_cases.py): a few healthy devices plus one that trickles, floods or
  lies; every healthy device must be read exactly (serial, model, version against the lab's
  ground truth), the sick one must carry its named cause;
* controller cases: ARA's server hung (SIGSTOP) and killed mid-run, the report directory read-only
  and full (tmpfs mounts), SIGINT to the run's process group and SIGTERM to ansible-playbook
  mid-poll and mid-report (the previous report must stay whole, no temp files or poller left),
  the lab restarted mid-run, the shared poller killed mid-run;
* the fleet: 1000 devices with 20% faulty of every kind against 1000 healthy ones.

Results: ``bench/results/<date>-chaos.{md,json}``; runs and logs in ``bench/work/chaos/``.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from collections import Counter
from pathlib import Path

from bench import chaos_cases, results
from bench.chaos_controller import CONTROLLER_CASES, controller_cases
from bench.chaos_run import (
    NETWORK,
    Lab,
    _ended,
    _hosts,
    judge_devices,
    over_bound,
    run,
    start_lab,
    summary_of,
)
from bench.lab_process import ROOT, inventory_subset

# ---------------------------------------------------------------- the device cases


def device_cases(lab: Lab, work: Path, names: list[str], deadline: float) -> list[dict]:
    healthy = [h for h in _hosts(lab) if chaos_cases.case_of(h) is None]
    rows = []
    for name in names:
        case = chaos_cases.by_name()[name]
        hosts = [*healthy, name]
        outcome = run(lab, work / "devices" / name, limit=",".join(hosts), deadline=deadline)
        problems = judge_devices(lab, outcome, hosts, deadline) + over_bound(outcome) + _ended(outcome)
        rows.append({"case": name, "what": case.what, "faults": case.faults, "wall_s": outcome["wall_s"],
                     "rc": outcome["rc"], "peak_rss_mib": outcome["peak_rss_mib"],
                     "device": summary_of(outcome, [name])[name], "healthy_exact": len(healthy) - sum(
                         1 for p in problems if not p.startswith(name)), "healthy": len(healthy),
                     "lost": problems or ["nothing"], "ok": not problems})
        print(f"chaos: {name}: {outcome['wall_s']} s, {rows[-1]['device']['status']}, lost: {rows[-1]['lost']}",
              flush=True)
    return rows


# ---------------------------------------------------------------- 1000 devices, 20% faulty


def fleet_stage(work: Path, devices: int, deadline: float) -> dict:
    """``devices`` healthy devices, and the same number with 20% of them faulty (every case alike)."""
    faulty_each = max(1, round(devices * 0.2 / len(chaos_cases.CASES)))
    faulty = faulty_each * len(chaos_cases.CASES)
    healthy_each = -(-devices // len(chaos_cases.HEALTHY))
    fleet_file = chaos_cases.write_fleet(work / "fleet-big.yml", network=NETWORK, healthy=healthy_each,
                                         copies=faulty_each)
    lab = start_lab(work / "big", fleet_file)
    try:
        names = _hosts(lab)
        healthy = [h for h in names if chaos_cases.case_of(h) is None]
        sick = [h for h in names if chaos_cases.case_of(h) is not None]
        all_healthy, mixed = healthy[:devices], healthy[:devices - faulty] + sick
        inventory = work / "big" / "lab" / "inventory.yml"
        base = run(lab, work / "big" / "healthy", inventory=inventory_subset(inventory, all_healthy, work / "big/healthy.yml"),
                   deadline=deadline)
        chaos = run(lab, work / "big" / "faulty", inventory=inventory_subset(inventory, mixed, work / "big/faulty.yml"),
                    deadline=deadline)
        problems = judge_devices(lab, chaos, mixed, deadline)
        base_problems = judge_devices(lab, base, all_healthy, deadline)
    finally:
        lab.stop()
    causes = Counter(chaos_cases.case_of(h).name for h in sick
                     if chaos_cases.judge(h, chaos["records"].get(h), deadline) is None)
    return {"devices": devices, "faulty": faulty, "faulty_per_case": faulty_each, "deadline_s": deadline,
            "healthy_run": _brief(base), "faulty_run": _brief(chaos),
            "extra_wall_s": round(chaos["wall_s"] - base["wall_s"], 1),
            "statuses": dict(Counter(r.get("status") for r in chaos["records"].values())),
            "causes_named": dict(sorted(causes.items())), "problems": problems[:40], "problem_count": len(problems),
            "healthy_run_problems": base_problems[:10],
            "ok": not problems and not base_problems and chaos["wall_s"] <= base["wall_s"] + 2 * deadline + 30}


def _brief(outcome: dict) -> dict:
    return {k: outcome[k] for k in ("rc", "wall_s", "peak_rss_mib", "timed_out", "left_running")} | {
        "records": len(outcome["records"])}


# ---------------------------------------------------------------- the page


def _rss(peaks: dict | None) -> str:
    return ", ".join(f"{role} {mib:g}" for role, mib in (peaks or {}).items()) or "-"


def markdown(data: dict) -> list[str]:
    lines = ["## Devices that misbehave", "",
             f"Each case: {data['healthy_per_case']} healthy devices and the sick one, one run of `playbooks/monitor.yml` "
             f"(ARA off, device deadline {data['deadline_s']:g} s, max_reply_size 64 MiB). Peak RSS in MiB by process "
             "role (main: ansible-playbook; workers: its forks and the report's page writers; poller: the shared "
             "poller).", "",
             "| case | what the device does | wall s | status | cause named | peak RSS MiB | lost |",
             "| --- | --- | ---: | --- | --- | --- | --- |"]
    for row in data["devices"]:
        lines.append(f"| {row['case']} | {row['what']} | {row['wall_s']} | {row['device']['status']} | "
                     f"{row['device']['cause'][:140].replace('|', '/')} | {_rss(row['peak_rss_mib'])} | "
                     f"{'; '.join(row['lost'])[:200]} |")
    lines += ["", "## The controller misbehaves", "", "| case | what | wall s | peak RSS MiB | lost |",
              "| --- | --- | ---: | --- | --- |"]
    for row in data["controller"]:
        lines.append(f"| {row['case']} | {row.get('what', '')} | {row.get('wall_s', '-')} | "
                     f"{_rss(row.get('peak_rss_mib'))} | {'; '.join(row['lost'])[:300]} |")
    big = data.get("fleet")
    if big:
        lines += ["", f"## {big['devices']} devices, {big['faulty']} of them faulty ({big['faulty_per_case']} of each "
                  "case)", "", "| run | wall s | peak RSS MiB | records |", "| --- | ---: | --- | ---: |",
                  f"| all healthy | {big['healthy_run']['wall_s']} | {_rss(big['healthy_run']['peak_rss_mib'])} | "
                  f"{big['healthy_run']['records']} |",
                  f"| 20% faulty | {big['faulty_run']['wall_s']} | {_rss(big['faulty_run']['peak_rss_mib'])} | "
                  f"{big['faulty_run']['records']} |", "",
                  f"The faulty run took {big['extra_wall_s']} s more (the device deadline is {big['deadline_s']:g} s). "
                  f"Statuses: {big['statuses']}. Causes named as expected, per case: {big['causes_named']}. "
                  f"Problems: {big['problem_count']}" + (f" (first: {big['problems'][:3]})" if big["problems"] else "")
                  + "."]
    failed = [r["case"] for r in [*data["devices"], *data["controller"]] if not r["ok"]]
    lines += ["", f"Cases not as expected: {', '.join(failed) or 'none'}."]
    return lines


def _parser() -> argparse.ArgumentParser:
    parser = results.parser("chaos", __doc__, ROOT / "bench" / "work" / "chaos")
    parser.add_argument("--deadline", type=float, default=60.0, help="restconf_deadline of the runs (default 60)")
    parser.add_argument("--cases", help="comma-separated case names (default: every device and controller case; "
                                        "none: only the fleet)")
    parser.add_argument("--fleet-devices", type=int, default=1000, help="size of the 20%%-faulty fleet (0: skip)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    chosen = [] if args.cases == "none" else args.cases.split(",") if args.cases else [*chaos_cases.by_name(),
                                                                                       *CONTROLLER_CASES]
    unknown = set(chosen) - set(chaos_cases.by_name()) - set(CONTROLLER_CASES)
    if unknown:
        raise SystemExit(f"unknown cases {sorted(unknown)}")
    work = args.work_dir.resolve()
    subprocess.run(["rm", "-rf", str(work)], check=True)
    started = results.Started()
    fleet_file = chaos_cases.write_fleet(work / "fleet.yml", network=NETWORK, healthy=1)
    lab = start_lab(work / "small", fleet_file)
    try:
        data = {"deadline_s": args.deadline, "healthy_per_case": len(chaos_cases.HEALTHY),
                "devices": device_cases(lab, work, [c for c in chosen if c in chaos_cases.by_name()], args.deadline),
                "controller": controller_cases(lab, work, [c for c in chosen if c in CONTROLLER_CASES],
                                               args.deadline)}
    finally:
        lab.stop()
    if args.fleet_devices:
        data["fleet"] = fleet_stage(work, args.fleet_devices, args.deadline)
        print(f"chaos: fleet: {data['fleet']['faulty_run']['wall_s']} s against {data['fleet']['healthy_run']['wall_s']}"
              f" s healthy; problems {data['fleet']['problem_count']}", flush=True)
    meta = started.meta("chaos: devices and a controller that misbehave", results.command("chaos", argv), False)
    json_path, md_path = results.write(args.results_dir, "chaos", meta, [("chaos", data, markdown)])
    print(f"results: {md_path}, {json_path.name}")
    failed = [r["case"] for r in [*data["devices"], *data["controller"]] if not r["ok"]]
    if data.get("fleet") and not data["fleet"]["ok"]:
        failed.append("fleet")
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
