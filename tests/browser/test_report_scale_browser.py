"""The report at 10,000 devices in real headless Chromium (issue 15): its size, and an index that stays usable.

The records are the lab's: 40 devices of the bench mix (iosxe-17 : iosxe-16.12 : ietf = 2 : 1 : 1, one
hostile) read through the collection's normalisers in-process (tests/records.py), then copied under 10,000
names with their own serial, address, CPU and memory; one in 50 unreachable. They are stored as a report's
fleet.json.gz and the report is written from it through the public face, as a user renders a stored report
again: ``ansible-playbook playbooks/report.yml`` (johann.monitor.report with ``fleet_json``), which completes
each record as a monitor run does. The acceptance figures are printed (pytest -s) and written to
tests/artifacts/report-10k.json (render_s: the report task's own render time; playbook_s: the whole run):

* the report's size per device, everything in its directory counted: at most 40 kB;
* the index's first paint (first-contentful-paint) and load under 1 s;
* the text filter, the status filter and sorting (numbers and text) under 150 ms each, timed in the page
  from the event to the next frame painted (the median of five).
"""
from __future__ import annotations

import json
import random
import statistics
import time
from collections import Counter
from pathlib import Path

import pytest

from lab.fleet import DeviceSpec, Fleet, build_devices
from lab.model import Clock
from tests.browser.harness import ARTIFACTS
from tests.lablib import EPOCH
from tests.records import record, record_at, render_stored, write_fleet

# 10,000 devices stored, then rendered by ansible-playbook: on a busy machine (load 6-7 on 2 cores) the report
# task rendered for 358 s, where the renderer run in process took 280 s; the run's 300 s guard is too short then
pytestmark = pytest.mark.timeout(900)
DEVICES = 10_000
PROFILES = ("iosxe-17", "iosxe-17", "iosxe-16.12", "ietf")   # the bench's mix (bench/fleet_bench.py)
MAX_BYTES_PER_DEVICE = 40_000
MAX_FIRST_PAINT_MS = 1000
MAX_ACTION_MS = 150
# an action, then the next frame: what the user waits for (the rows drawn), timed in the page
TIMED_JS = """async ([action, arg]) => {
    const act = {
        type: () => { const f = document.getElementById('filter'); f.value = arg; f.dispatchEvent(new Event('input')); },
        status: () => { const s = document.getElementById('status-filter'); s.value = arg;
                        s.dispatchEvent(new Event('change')); },
        sort: () => document.querySelector(`#devices th[data-key="${arg}"]`).click(),
        next: () => document.querySelector('#pager button:last-child').click(),
    }[action];
    const started = performance.now();
    act();
    await new Promise(resolve => requestAnimationFrame(() => setTimeout(resolve, 0)));
    return performance.now() - started;
}"""
# Chromium queues the paint entry: read right after load, it is sometimes not there yet (CI saw it once), so it is
# awaited (a buffered observer sees it whenever it came), for at most 5 s
PAINT_JS = """async () => {
    const fcp = await new Promise(resolve => {
        const seen = performance.getEntriesByName('first-contentful-paint')[0];
        if (seen) { resolve(seen.startTime); return; }
        new PerformanceObserver((list, observer) => {
            const entry = list.getEntriesByName('first-contentful-paint')[0];
            if (entry) { observer.disconnect(); resolve(entry.startTime); }
        }).observe({type: 'paint', buffered: true});
        setTimeout(() => resolve(null), 5000);
    });
    return {fcp, load: performance.getEntriesByType('navigation')[0].loadEventEnd,
            rows: document.querySelectorAll('#devices tbody tr').length,
            ready: document.getElementById('devices').getAttribute('data-ready')};
}"""


def _base_records() -> list[dict]:
    """The bench mix's 40 devices as device_info records (one hostile: its strings must stay text)."""
    fleet = Fleet([DeviceSpec(f"lab-{i:02d}", PROFILES[i % 4], {"hostile": True} if i == 5 else {})
                   for i in range(40)], seed=5)
    devices = build_devices(fleet, {"username": "u", "password": "p"}, Clock(EPOCH, frozen=True))
    out = []
    for device in devices:
        sections = record_at(device, EPOCH)
        sections.update(polled_at="2026-11-29T00:00:00.000Z", platform=device.profile.platform)
        out.append(record(device.name, **sections))
    return out


def _fleet(count: int) -> dict[str, dict]:
    """``count`` records: copies of the base records with their own identity and readings."""
    base, rng, records = _base_records(), random.Random(15), {}
    for n in range(count):
        host = f"dev-{n:05d}"
        rec = base[n % len(base)]
        if n % 50 == 7:
            records[host] = record(host, status="unreachable", polled_at="2026-11-29T00:00:00.000Z",
                                   message=f"timed out after 10 s connecting to 10.{n // 250}.{n % 250}.7:443")
            continue
        identity = dict(rec["identity"], serial=f"FOC{n:08d}", hostname=rec["identity"]["hostname"] if n % 40 == 5
                        else f"{host}.lab")
        records[host] = dict(rec, host=host, address=f"10.{n // 250}.{n % 250}.1", identity=identity)
        if rec["cpu"] and rec["cpu"]["five_minutes"] is not None:   # IOS XE's; the IETF profile has no CPU
            records[host]["cpu"] = dict(rec["cpu"], five_minutes=rng.randint(1, 99), one_minute=rng.randint(1, 99))
        if rec["memory"] and rec["memory"]["used_percent"] is not None:
            records[host]["memory"] = dict(rec["memory"], used_percent=round(rng.uniform(20, 95), 1))
    return records


@pytest.fixture(scope="module")
def big_report(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("report-10k")
    records = _fleet(DEVICES)
    fleet = write_fleet(tmp_path_factory.mktemp("report-10k-stored") / "fleet.json.gz", records, "10k")
    started = time.monotonic()
    result = render_stored(fleet, out)
    assert result["devices"] == DEVICES and result["page_errors"] == {} and result["export_errors"] == {}
    return {"out": out, "records": records, "render_s": round(result["render_seconds"], 1),
            "playbook_s": round(time.monotonic() - started, 1)}


def _kind(path: Path, out: Path) -> str:
    relative = path.relative_to(out)
    if relative.parts[0] == "devices":
        return "device pages"
    if relative.parts[0] in ("assets", "summary-parts"):
        return relative.parts[0]
    return relative.name


def _sizes(out: Path) -> dict[str, int]:
    sizes = Counter()
    for path in out.rglob("*"):
        if path.is_file():
            sizes[_kind(path, out)] += path.stat().st_size
    return dict(sizes.most_common())


def _median_ms(page, action: str, arg: str, reset: tuple[str, str] | None = None) -> float:
    times = []
    for _ in range(5):   # the median of five: this machine's other work comes in bursts
        times.append(page.evaluate(TIMED_JS, [action, arg]))
        if reset:
            page.evaluate(TIMED_JS, list(reset))
    return round(statistics.median(times), 1)


def _report(figures: dict) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "report-10k.json").write_text(json.dumps(figures, indent=2) + "\n")
    print("\nreport at 10,000 devices:", json.dumps(figures, indent=2))


def test_the_report_at_10000_devices_is_small_and_its_index_fast(report_page, big_report):
    out, records = big_report["out"], big_report["records"]
    sizes = _sizes(out)
    total = sum(sizes.values())
    page = report_page.open(out / "index.html")
    paint = page.evaluate(PAINT_JS)
    page.assert_clean()
    assert paint["ready"] == "yes" and paint["rows"] == 50
    assert paint["fcp"] is not None, "Chromium recorded no first-contentful-paint for the index within 5 s of its load"
    assert page.text("#shown") == str(DEVICES) and "rows 1–50 of 10000 · page 1 of 200" in page.text("#pager")

    # the text filter: every host with "dev-012" (dev-01200 ... dev-01299), the count in #shown
    filtered = _median_ms(page, "type", "dev-012", reset=("type", ""))
    page.evaluate(TIMED_JS, ["type", "dev-012"])
    expected = sorted(h for h in records if "dev-012" in h)[:50]   # the first page of 100
    assert sorted(r[0] for r in page.table_rows("#devices")) == expected and page.text("#shown") == "100"
    page.evaluate(TIMED_JS, ["type", ""])

    # the status filter: the unreachable ones, across pages
    by_status = _median_ms(page, "status", "unreachable", reset=("status", ""))
    page.evaluate(TIMED_JS, ["status", "unreachable"])
    unreachable = [h for h, r in records.items() if r["status"] == "unreachable"]
    assert page.text("#shown") == str(len(unreachable)) == "200"
    assert {r[1].split("\n")[0] for r in page.table_rows("#devices")} == {"Unreachable"}
    paged = _median_ms(page, "next", "", reset=("status", "unreachable"))
    page.evaluate(TIMED_JS, ["status", ""])

    # sorting by CPU (numbers, unknowns last) both ways, and by host (text) both ways
    headers = page.table_headers("#devices")
    cpu, host = headers.index("CPU %"), headers.index("Host")
    sort_cpu = _median_ms(page, "sort", "cpu")   # ascending, descending, ... ascending (an odd number of clicks)
    values = [row[cpu] for row in page.table_rows("#devices")]
    assert [int(v) for v in values] == sorted(int(v) for v in values) and values[0] == "1"
    sort_host = _median_ms(page, "sort", "host")
    hosts = [row[host] for row in page.table_rows("#devices")]
    assert hosts == sorted(records)[:50]
    page.evaluate(TIMED_JS, ["sort", "host"])
    assert [row[host] for row in page.table_rows("#devices")] == sorted(records, reverse=True)[:50]
    page.evaluate(TIMED_JS, ["sort", "cpu"])
    page.evaluate(TIMED_JS, ["sort", "cpu"])   # descending: the highest first, the unreachable (no CPU) last
    assert [int(row[cpu]) for row in page.table_rows("#devices")][:3] == [99, 99, 99]
    page.evaluate(TIMED_JS, ["status", "unreachable"])
    assert {row[cpu] for row in page.table_rows("#devices")} == {"—"}
    assert page.evaluate("window.__johann_xss") is None
    page.assert_clean()

    figures = {"devices": DEVICES, "render_s": big_report["render_s"], "playbook_s": big_report["playbook_s"],
               "bytes_total": total,
               "bytes_per_device": round(total / DEVICES), "bytes_per_device_by_kind":
               {kind: round(size / DEVICES) for kind, size in sizes.items()},
               "index_first_contentful_paint_ms": round(paint["fcp"], 1), "index_load_ms": round(paint["load"], 1),
               "text_filter_ms": filtered, "status_filter_ms": by_status, "next_page_ms": paged,
               "sort_cpu_ms": sort_cpu, "sort_host_ms": sort_host}
    _report(figures)
    assert total / DEVICES <= MAX_BYTES_PER_DEVICE, figures
    assert paint["fcp"] < MAX_FIRST_PAINT_MS and paint["load"] < MAX_FIRST_PAINT_MS, figures
    assert max(filtered, by_status, paged, sort_cpu, sort_host) < MAX_ACTION_MS, figures


def test_without_javascript_the_first_rows_and_the_problems_show(chromium_browser, big_report):
    """JavaScript off: the first 50 rows are HTML, and every device that needs attention is listed with its link."""
    from tests.browser import harness

    def noscript(browser):
        context = browser.new_context(java_script_enabled=False, viewport=harness.VIEWPORT)
        try:
            page = context.new_page()
            page.goto((big_report["out"] / "index.html").resolve().as_uri(), wait_until="load")
            return {"rows": page.locator("#devices tbody tr").count(),
                    "first": page.locator("#devices tbody tr td:first-child").first.inner_text(),
                    "attention": page.locator("ul.attention li a").evaluate_all("links => links.map(a => a.textContent)")}
        finally:
            context.close()

    seen = chromium_browser.thread.call(noscript, chromium_browser.browser)
    unreachable = sorted(h for h, r in big_report["records"].items() if r["status"] == "unreachable")
    assert seen["rows"] == 50 and seen["first"] == "dev-00000"
    assert set(unreachable) <= set(seen["attention"]) and len(unreachable) == 200
