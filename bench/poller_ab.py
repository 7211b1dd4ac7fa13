"""Before and after for the poller (issue 17): monitor.yml from two states of the code, side by side on one lab.

    .venv/bin/python -m bench.poller_ab                                  # HEAD against the working tree, 1000 devices
    .venv/bin/python -m bench.poller_ab --devices 300 --rounds 1
    .venv/bin/python -m bench.poller_ab --before-tree /tmp/old --after-tree /tmp/new --json out.json --md out.md

One lab (127.91.0.0/16, latency 0, state in bench/work/poller-ab/, profiles iosxe-17 : iosxe-16.12 : ietf =
2 : 1 : 1, TLS verified against its CA). Each code state is a tree with ansible.cfg, the collection, the
playbooks and the report templates (``--before``: a commit's, by git archive, as bench/scale_bench.py's
``--code``; ``--after``: the working tree, copied first, so that others' edits during the runs do not move the
figures). Per round, in turn (the order reversed every other round): Ansible's no-op floor
(bench/netcommon/noop.yml), the asyncio + httpx limit and the aiohttp reference (bench/asyncio_limit.py),
playbooks/monitor.yml with ARA off from the ``before`` tree and from the ``after`` tree.

Per run: wall; CPU of the whole tree (ansible-playbook, its workers and the shared poller it leaves, reaped here
as a child subreaper); the poller's own CPU (the only orphan of an ARA-off run); the controller's peak RSS (the
main process's VmHWM, sampled) and the largest child's (ru_maxrss); the lab's CPU apart. Medians over the rounds,
then per device and the ratios: monitor over the floor, the poller over each reference.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
from pathlib import Path

from bench import ara_overhead, fleet_bench, procfs, scale_bench
from bench.lab_process import ROOT, RunningLab

NETWORK = "127.91.0.0/16"   # apart from the other benches (127.80, 127.87-89, 127.93) and the tests (127.78)
RUN_TIMEOUT_S = 900


class Lab(RunningLab):
    def argv(self) -> list[str]:
        argv = super().argv()
        argv[argv.index("--network") + 1] = NETWORK
        return argv


def copy_tree(dest: Path) -> Path:
    """The working tree's run files, copied (as scale_bench.snapshot takes a commit's)."""
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    for name in scale_bench.SNAPSHOT_PATHS:
        source = ROOT / name
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "out"))
        else:
            shutil.copy2(source, target)
    (dest / ".venv").symlink_to(ROOT / ".venv")
    return dest


def watched(command: list[str], env: dict, log_path: Path, cwd: Path) -> dict:
    """ara_overhead.run_watched, with the orphans' CPU (the shared poller's) shown apart."""
    status, usage, wall, hwm, _timed_out = ara_overhead.run_watched(command, env, log_path, WATCH_TIMEOUT_S, cwd=cwd)
    return {"rc": os.waitstatus_to_exitcode(status), "wall_s": round(wall, 2),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 2), "poller_cpu_s": round(usage.orphan_cpu, 2),
            "orphans": usage.orphans, "controller_hwm_mib": round(hwm.get("vm_hwm_kib", 0) / 1024, 1),
            "children_max_rss_mib": round(usage.ru_maxrss / 1024, 1)}


WATCH_TIMEOUT_S = 3600.0   # a run of 1000 devices takes about a minute: an hour is a hung run


def run_monitor(tree: Path, lab: Lab, inventory: Path, count: int, run_dir: Path) -> dict:
    env = fleet_bench._ansible_env(tree / "ansible.cfg", run_dir, Path(sys.executable).parent)
    env["ANSIBLE_CALLBACK_PLUGINS"] = "/nonexistent"   # ARA off
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory),
               str(tree / "playbooks" / "monitor.yml"), "-e", f"johann_report_dir={run_dir / 'report'}"]
    lab_before = procfs.cpu_seconds(lab.pid)
    row = watched(command, env, run_dir / "ansible.log", tree)
    row["lab_cpu_s"] = round(procfs.cpu_seconds(lab.pid) - lab_before, 2)
    ok, seen = fleet_bench._recap_ok(run_dir / "ansible.log", count)
    row.update(devices_ok=ok, complete=row["rc"] == 0 and ok == count == seen)
    shutil.rmtree(run_dir / "report", ignore_errors=True)
    return row


def run_limit(lab: Lab, inventory: Path, count: int, client: str, run_dir: Path) -> dict:
    out = run_dir / "limit.json"
    lab_before = procfs.cpu_seconds(lab.pid)
    row = watched([sys.executable, "-m", fleet_bench.LIMIT_MODULE, "--inventory", str(inventory), "--client", client,
                   "--json", str(out)], dict(os.environ), run_dir / "limit.log", ROOT)
    row["lab_cpu_s"] = round(procfs.cpu_seconds(lab.pid) - lab_before, 2)
    read = json.loads(out.read_text()).get("read") if out.exists() else 0
    row.update(devices_ok=read, complete=row["rc"] == 0 and read == count)
    return row


def run_floor(lab: Lab, inventory: Path, count: int, run_dir: Path) -> dict:
    env = fleet_bench._ansible_env(fleet_bench.CONFIG, run_dir, Path(sys.executable).parent)
    env["ANSIBLE_CALLBACK_PLUGINS"] = "/nonexistent"
    lab_before = procfs.cpu_seconds(lab.pid)
    row = watched([str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory),
                   str(fleet_bench.FLOOR_PLAYBOOK)], env, run_dir / "ansible.log", ROOT)
    row["lab_cpu_s"] = round(procfs.cpu_seconds(lab.pid) - lab_before, 2)
    ok, seen = fleet_bench._recap_ok(run_dir / "ansible.log", count)
    row.update(devices_ok=ok, complete=row["rc"] == 0 and ok == count == seen)
    return row


RUNNERS = ("floor", "limit-httpx", "limit-aiohttp", "johann-before", "johann-after")


def run(devices: int, rounds: int, trees: dict[str, Path], work: Path) -> dict:
    runs: list[dict] = []
    with Lab(count=devices, work_dir=work) as lab:
        assert lab.inventory is not None
        print(f"poller-ab: lab {lab.startup.ready_line if lab.startup else ''}", flush=True)
        inventory = lab.inventory.path
        if "after" in trees:   # the steady state of a monitor run every few minutes: discovery kept from the last
            warm = work / "runs" / "warm-up"
            shutil.rmtree(warm, ignore_errors=True)
            (warm / "tmp").mkdir(parents=True)
            row = run_monitor(trees["after"], lab, inventory, devices, warm)
            print(f"poller-ab: warm-up (after, not counted): wall {row['wall_s']:.1f} s, cpu {row['cpu_s']:.1f}", flush=True)
        for index in range(rounds):
            order = RUNNERS if index % 2 == 0 else tuple(reversed(RUNNERS))
            for runner in order:
                run_dir = work / "runs" / f"{index}-{runner}"
                shutil.rmtree(run_dir, ignore_errors=True)
                (run_dir / "tmp").mkdir(parents=True)
                if runner == "floor":
                    row = run_floor(lab, inventory, devices, run_dir)
                elif runner.startswith("limit-"):
                    row = run_limit(lab, inventory, devices, runner.split("-")[1], run_dir)
                else:
                    row = run_monitor(trees[runner.split("-")[1]], lab, inventory, devices, run_dir)
                row.update(runner=runner, round=index, load=procfs.load_average())
                runs.append(row)
                print(f"poller-ab: {runner:14} wall {row['wall_s']:6.1f} s  cpu {row['cpu_s']:6.1f}  poller "
                      f"{row['poller_cpu_s']:5.1f}  lab {row['lab_cpu_s']:5.1f}  rss {row['controller_hwm_mib']:.0f}/"
                      f"{row['children_max_rss_mib']:.0f} MiB  {'ok' if row['complete'] else 'INCOMPLETE'}", flush=True)
    return analyse({"devices": devices, "rounds": rounds, "trees": {k: str(v) for k, v in trees.items()},
                    "runs": runs})


def analyse(data: dict) -> dict:
    n = data["devices"]
    medians = {}
    for runner in RUNNERS:
        rows = [r for r in data["runs"] if r["runner"] == runner]
        if rows:
            medians[runner] = {k: statistics.median(r[k] for r in rows)
                               for k in ("wall_s", "cpu_s", "poller_cpu_s", "lab_cpu_s", "controller_hwm_mib",
                                         "children_max_rss_mib")}
            medians[runner]["cpu_ms_per_device"] = round(medians[runner]["cpu_s"] / n * 1000, 1)
            medians[runner]["poller_ms_per_device"] = round(medians[runner]["poller_cpu_s"] / n * 1000, 1)
    data["medians"] = medians

    def ratio(a: str, b: str, key: str = "cpu_s", key_b: str | None = None) -> float | None:
        if a in medians and b in medians and medians[b][key_b or key]:
            return round(medians[a][key] / medians[b][key_b or key], 2)
        return None

    data["ratios"] = {f"{side}_{what}": value for side in ("before", "after") for what, value in (
        ("cpu_over_floor", ratio(f"johann-{side}", "floor")),
        ("wall_over_floor", ratio(f"johann-{side}", "floor", "wall_s")),
        ("poller_over_aiohttp", ratio(f"johann-{side}", "limit-aiohttp", "poller_cpu_s", "cpu_s")),
        ("poller_over_httpx", ratio(f"johann-{side}", "limit-httpx", "poller_cpu_s", "cpu_s")))}
    data["complete"] = all(r["complete"] for r in data["runs"])
    return data


def markdown(data: dict) -> list[str]:
    n = data["devices"]
    lines = ["## monitor.yml before and after (issue 17)", "",
             f"{n} lab devices, latency 0, TLS verified, ARA off; medians of {data['rounds']} round(s), runs "
             "interleaved. CPU = the whole tree (ansible-playbook, workers, the shared poller); poller = the shared "
             "poller's own CPU; the references are single asyncio processes.", "",
             "| run | wall s | CPU s | CPU ms / device | poller CPU s | poller ms / device | main peak RSS MiB | "
             "largest child MiB |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for runner, m in data["medians"].items():
        lines.append(f"| {runner} | {m['wall_s']:.1f} | {m['cpu_s']:.1f} | {m['cpu_ms_per_device']} | "
                     f"{m['poller_cpu_s']:.1f} | {m['poller_ms_per_device']} | {m['controller_hwm_mib']:.0f} | "
                     f"{m['children_max_rss_mib']:.0f} |")
    lines += ["", "| ratio | before | after |", "| --- | ---: | ---: |"]
    for what in ("cpu_over_floor", "wall_over_floor", "poller_over_aiohttp", "poller_over_httpx"):
        lines.append(f"| {what.replace('_', ' ')} | {data['ratios'][f'before_{what}']} | "
                     f"{data['ratios'][f'after_{what}']} |")
    lines += ["", "Trees: " + ", ".join(f"{k} `{v}`" for k, v in data["trees"].items()), ""]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.poller_ab", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--before", default="HEAD", help="a commit (default HEAD)")
    parser.add_argument("--before-tree", type=Path, help="a tree instead of --before")
    parser.add_argument("--after-tree", type=Path, help="a tree instead of a copy of the working tree")
    parser.add_argument("--work-dir", type=Path, default=ROOT / "bench" / "work" / "poller-ab")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--md", type=Path)
    args = parser.parse_args(argv)
    work = args.work_dir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    trees = {"before": args.before_tree or scale_bench.snapshot(args.before, work / "before"),
             "after": args.after_tree or copy_tree(work / "after")}
    data = run(args.devices, args.rounds, {k: Path(v).resolve() for k, v in trees.items()}, work)
    text = "\n".join(markdown(data)) + "\n"
    if args.json:
        args.json.write_text(json.dumps(data, indent=2) + "\n")
    if args.md:
        args.md.write_text(text)
    print(text)
    return 0 if data["complete"] else 1


if __name__ == "__main__":
    sys.exit(main())
