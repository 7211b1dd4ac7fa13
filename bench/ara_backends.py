"""ARA's two backends on one monitor run: off, the local SQLite server, and a team's PostgreSQL; database sizes.

    .venv/bin/python -m bench.ara_backends                  # 1000 devices, latency 0, once each: about 6 minutes
    .venv/bin/python -m bench.ara_backends --quick          # 200 devices: under 2 minutes
    .venv/bin/python -m bench.ara_backends --devices 300 --repeat 2

A stage of ``make bench`` (bench/run.py; ``--skip-ara-db`` leaves it out). One lab (127.87.0.0/16, state in
bench/work/ara-db/), then playbooks/monitor.yml with the project's ansible.cfg, by bench/ara_overhead.py's
``run_once``, interleaved:

* ``off``: ARA not loaded;
* ``project``: the local SQLite server (gunicorn, one sync worker, callback_threads 0: the embedded default);
* ``postgresql``: PostgreSQL (Debian's, a fresh cluster by tools/postgres.py) behind gunicorn with 4 sync
  workers, ARA_CALLBACK_THREADS=4, as ``make ara-start ARA_DB=postgresql`` runs it (docs/ara.md).

Each ARA database starts empty (migrated) and is checked afterwards for the whole run (every result, host
stats, the summary record). Per run: wall, ansible-playbook's CPU, the ARA server's CPU (gunicorn) and
PostgreSQL's (its postmaster and backends), and what the run added to the database: pg_database_size, or
the SQLite file. From that, the size of 30 days of 15-minute runs (2880 runs) at this fleet size, linear in
runs (ARA stores each result apart; pruning keeps it there: make ara-prune).

Results: bench/results/<date>-ara-db[-quick].{md,json}.
"""
from __future__ import annotations

import sys
from pathlib import Path

from bench import ara_overhead, results

VARIANTS = ["off", "project", "postgresql"]
NAMES = {"off": "ARA off", "project": "SQLite server (1 worker, threads 0)",
         "postgresql": "PostgreSQL (4 workers, threads 4)"}
RUNS_30_DAYS = 30 * 24 * 4   # a 15-minute schedule


def run(devices: int, repeat: int, work: Path, latency: float = 0.0) -> dict:
    data = ara_overhead.run(devices, [latency], repeat, list(VARIANTS), work, serial_report=False)
    data["sizes"] = sizes(data["runs"])
    data["checks"]["postgresql_complete"] = all(r["complete"] for r in data["runs"] if r["variant"] == "postgresql")
    return data


def sizes(runs: list[dict]) -> dict:
    """Per ARA variant: bytes one run added (median), per device, and 30 days of 15-minute runs."""
    out = {}
    for variant in ("project", "postgresql"):
        grown = sorted(r["db_bytes_run"] for r in runs if r["variant"] == variant and r.get("db_bytes_run"))
        if not grown:
            continue
        per_run = grown[len(grown) // 2]
        devices = next(r["devices"] for r in runs if r["variant"] == variant)
        out[variant] = {"bytes_per_run": per_run, "bytes_per_device_run": round(per_run / devices),
                        "empty_bytes": min(r["db_bytes_before"] for r in runs if r["variant"] == variant),
                        "runs_30_days": RUNS_30_DAYS, "bytes_30_days": per_run * RUNS_30_DAYS,
                        "bytes_30_days_at_1000": round(per_run / devices * 1000 * RUNS_30_DAYS)}
    return out


def _mb(n: float) -> str:
    return f"{n / 1e6:.1f} MB"


def markdown(data: dict) -> list[str]:
    lines = [f"## ARA off vs SQLite vs PostgreSQL ({data['devices']} devices, latency "
             f"{data['latencies_ms'][0]:g} ms, {data['repeat']} run(s) each)", "",
             "playbooks/monitor.yml; CPU = ansible-playbook and its children; server CPU = gunicorn; DB CPU = "
             "PostgreSQL's processes (SQLite works inside gunicorn). Overhead over the median run with ARA off.", "",
             "| ARA | wall s (each) | vs off | ansible CPU s | server CPU s | DB CPU s | CPU vs off (all) | "
             "recorded completely | others' CPU s |", "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |"]
    runs = data["runs"]
    for r in data["summary"]:
        mine = [x for x in runs if x["variant"] == r["variant"]]
        gunicorn = [x["server_cpu_s"] for x in mine if x["server_cpu_s"] is not None]
        db = [x["db_cpu_s"] for x in mine if x.get("db_cpu_s") is not None]
        lines.append(f"| {NAMES.get(r['variant'], r['variant'])} | {r['wall_median_s']} "
                     f"({' / '.join(map(str, r['wall_s']))}) | {ara_overhead._pct(r.get('overhead_wall'))} | "
                     f"{r['cpu_median_s']} | {' / '.join(map(str, gunicorn)) or '–'} | {' / '.join(map(str, db)) or '–'} | "
                     f"{ara_overhead._pct(r.get('overhead_cpu'))} | "
                     f"{'–' if r['variant'] == 'off' else ('yes' if r['complete'] else '**NO**')} | "
                     f"{' / '.join(map(str, r['others_cpu_s']))} |")
    lines += ["", "What one run adds to ARA's database, and 30 days of 15-minute runs (2880) without pruning:", "",
              "| database | empty (migrated) | one run | per device and run | 30 days at this size | "
              "30 days at 1000 devices |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for variant, s in data["sizes"].items():
        lines.append(f"| {NAMES[variant]} | {_mb(s['empty_bytes'])} | {_mb(s['bytes_per_run'])} | "
                     f"{s['bytes_per_device_run']} B | {s['bytes_30_days'] / 1e9:.1f} GB | "
                     f"{s['bytes_30_days_at_1000'] / 1e9:.1f} GB |")
    lines += ["", "Every run:", "", "| variant | wall s | CPU s | server CPU s | DB CPU s | lab CPU s | others' CPU s | "
              "load | DB bytes before / after | recorded |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"]
    lines += [f"| {r['variant']} | {r['wall_s']} | {r['cpu_s']} | {results.cell(r['server_cpu_s'])} | "
              f"{results.cell(r.get('db_cpu_s'))} | {r['lab_cpu_s']} | {r['others_cpu_s']} | {r['load_before'][0]} | "
              f"{r.get('db_bytes_before') or '–'} / {r.get('db_bytes_after') or '–'} | {ara_overhead.recorded_cell(r)} |"
              for r in runs]
    lines += ["", results.checks(data), ""]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = results.parser("ara_backends", __doc__)
    parser.add_argument("--quick", action="store_true", help="200 devices (under 2 minutes)")
    parser.add_argument("--devices", type=int, help="lab size (default 1000, quick 200)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each variant (default 1)")
    parser.add_argument("--no-write", action="store_true", help="print the summary, write no results files")
    args = parser.parse_args(argv)
    devices = args.devices or (200 if args.quick else 1000)
    started = results.Started()
    ara_overhead._postgres().bin_dir()   # PostgreSQL missing: fail now (make postgresql-deps), not after the lab
    data = run(devices, args.repeat, args.work_dir.resolve() / "ara-db")
    for r in data["summary"]:
        print(f"ara-db: {r['variant']:10} wall {r['wall_median_s']} s ({ara_overhead._pct(r.get('overhead_wall'))}), "
              f"CPU {r['cpu_median_s']} + server/db {r['server_cpu_median_s'] or 0} s, "
              f"{'complete' if r['complete'] else 'INCOMPLETE'}", flush=True)
    for variant, s in data["sizes"].items():
        print(f"ara-db: {variant} database +{_mb(s['bytes_per_run'])} per run; 30 days of 15-minute runs at 1000 "
              f"devices: {s['bytes_30_days_at_1000'] / 1e9:.1f} GB", flush=True)
    if not args.no_write:
        meta = started.meta(f"ARA off, SQLite and PostgreSQL on a {devices}-device monitor run",
                            results.command("ara_backends", argv), args.quick)
        json_path, md_path = results.write(args.results_dir, "ara-db-quick" if args.quick else "ara-db", meta,
                                           [("ara_db", data, markdown)])
        print(f"results: {md_path} and {json_path.name}")
    failed = [name for name, ok in data["checks"].items()
              if not ok and name in ("every_ara_run_complete", "every_summary_recorded", "postgresql_complete")]
    if failed:
        print("FAILED: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
