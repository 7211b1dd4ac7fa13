"""The report in real headless Chromium, from file://: no errors, no network, sorting,
filtering, every link resolves, hostile strings stay text."""
from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from tests.integration.conftest import run_playbook
from tests.lablib import ROOT


@pytest.fixture(scope="module")
def report_dir(lab, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("browser-report")
    run = run_playbook(lab, ROOT / "playbooks/monitor.yml", "-e", f"johann_report_dir={out}",
                       "-e", "target=all:!hang")
    assert run.returncode == 0, run.stdout[-3000:]
    return out


def _column(page, header: str) -> int:
    return page.table_headers("#devices").index(header)


def test_index_loads_clean_and_is_screenshotted(report_page, report_dir):
    page = report_page.open(report_dir / "index.html")
    page.assert_clean()
    assert page.text("h1") == "Fleet overview"
    rows = page.table_rows("#devices")
    assert len(rows) == len(list((report_dir / "devices").glob("*.html")))
    assert page.evaluate("window.__johann_xss") is None
    assert page.screenshot("report-index").stat().st_size > 20_000


def test_device_page_loads_clean_and_shows_its_record(report_page, report_dir):
    page = report_page.open(report_dir / "devices" / "c9300.html")
    page.assert_clean()
    assert page.text("h1").startswith("c9300")
    raw = page.text("p.raw-record")   # the record is kept once, in fleet.json.gz: the page says where and how
    assert "fleet.json.gz" in raw and "jq --arg h c9300 '.devices[$h]'" in raw
    record = json.loads(gzip.decompress((report_dir / "fleet.json.gz").read_bytes()))["devices"]["c9300"]
    assert record["host"] == "c9300" and len(record["interfaces"]) == 56
    interfaces = page.table_rows("table.interfaces")
    assert len(interfaces) == 56
    states = {row[2].split(" (")[0] for row in interfaces}
    assert states <= {"up", "down", "admin down"} and "up" in states
    assert page.screenshot("report-device-c9300").stat().st_size > 20_000


@pytest.mark.parametrize("host,vendor", [("eos", "Arista"), ("nxos", "Cisco"), ("gx", None), ("csr", "Cisco")])
def test_a_mixed_fleet_is_one_report(report_page, report_dir, lab, host, vendor):
    """IOS XE, NX-OS, OpenConfig (EOS) and IETF devices side by side: each row and page shows its own
    model and serial, as the lab's truth has them."""
    truth = lab.truth(host)
    index = report_page.open(report_dir / "index.html")
    row = next(r for r in index.table_rows("#devices") if r[0] == host)
    assert truth["model"] in row and truth["serial"] in row
    page = report_page.open(report_dir / "devices" / f"{host}.html")
    page.assert_clean()
    body = page.text("body")
    assert truth["serial"] in body and truth["model"] in body and truth["os_version_full"] in body
    if vendor:
        assert vendor in body
    assert len(page.table_rows("table.interfaces")) == len(truth["interfaces"])


def test_pages_load_their_shared_files_and_no_inline_script_runs(report_page, report_dir):
    """assets/report.css and assets/report.js load from file:// under the pages' CSP (script-src 'self'),
    and a script written into the page (what an injection would be) is refused."""
    for name in ("index.html", "devices/c9300.html"):
        page = report_page.open(report_dir / name)
        page.assert_clean()
        assert page.evaluate("getComputedStyle(document.querySelector('header.top')).display") == "flex"
    loaded = sorted(u.removeprefix(report_dir.as_uri()) for u in page.requests if "/assets/" in u)
    assert loaded == ["/assets/report.css", "/assets/report.css", "/assets/report.js", "/assets/report.js"]
    assert page.evaluate("""() => { const s = document.createElement('script');
        s.textContent = 'window.__johann_xss = 9'; document.body.appendChild(s); return window.__johann_xss; }""") is None
    assert len(page.console_errors) == 1 and "violates the following Content Security Policy directive " \
        "'script-src 'self''" in page.console_errors[0]
    # report.js ran on the device page: it made the interface table's headers sortable
    assert page.evaluate("document.querySelector('table.interfaces th').getAttribute('aria-sort')") == "none"


def test_sorting_by_cpu_orders_numbers(report_page, report_dir):
    page = report_page.open(report_dir / "index.html")
    cpu = _column(page, "CPU %")
    page.click(f"#devices th:nth-child({cpu + 1})")
    values = [row[cpu] for row in page.table_rows("#devices")]
    numbers = [int(v) for v in values if v.isdigit()]
    assert numbers == sorted(numbers) and len(numbers) >= 10
    assert values[len(numbers):] == ["—"] * (len(values) - len(numbers))   # unknowns last
    page.click(f"#devices th:nth-child({cpu + 1})")
    descending = [int(row[cpu]) for row in page.table_rows("#devices") if row[cpu].isdigit()]
    assert descending == sorted(numbers, reverse=True)


def test_filtering_by_text_and_status(report_page, report_dir):
    page = report_page.open(report_dir / "index.html")
    expected = sorted(r[0] for r in page.table_rows("#devices") if "csr" in " ".join(r).lower())
    page.type("#filter", "csr")
    hosts = sorted(row[0] for row in page.table_rows("#devices"))
    assert hosts == expected and "csr" in hosts and "c9300" not in hosts and len(hosts) >= 4
    assert page.text("#shown") == str(len(hosts))
    page.fill("#filter", "")
    page.run(lambda p: p.select_option("#status-filter", "unreachable"))
    unreachable = sorted(row[0] for row in page.table_rows("#devices"))
    assert unreachable == ["closed", "mtls", "wrongcert"]
    page.run(lambda p: p.select_option("#status-filter", "auth_failed"))
    assert [row[0] for row in page.table_rows("#devices")] == ["badpass"]


def test_every_device_has_a_page_and_every_link_resolves(report_page, report_dir):
    checked = 0
    for name in ("index.html", "stats.html", "licensing.html", "devices/c9300.html", "devices/hostile.html"):
        page = report_page.open(report_dir / name)
        page.assert_clean()
        for href in page.evaluate("Array.from(document.querySelectorAll('a[href]'), a => a.href)"):
            target = Path(unquote(urlparse(href).path))
            assert target.is_file(), f"{name}: {href}"
            checked += 1
    assert checked > 60


def test_hostile_strings_show_as_text_and_never_run(report_page, report_dir):
    for name in ("index.html", "devices/hostile.html", "stats.html"):
        page = report_page.open(report_dir / name)
        page.assert_clean()
        assert page.evaluate("window.__johann_xss") is None, name
    page = report_page.open(report_dir / "devices" / "hostile.html")
    body = page.text("main")
    assert "<script>window.__johann_xss=1</script>" in body            # visible, as text
    assert "<svg/onload=window.__johann_xss=3>" in body
    assert re.search(r'"><img src=x onerror="window.__johann_xss=2">', body)
    page.screenshot("report-device-hostile")


def test_statistics_charts_render_as_svg(report_page, report_dir):
    page = report_page.open(report_dir / "stats.html")
    page.assert_clean()
    slices = page.evaluate("document.querySelectorAll('figure svg path').length")
    assert slices >= 4
    legend = page.text("figure:first-of-type")
    assert re.search(r"OK: \d+ \(\d+(\.\d)?%\)", legend)


def test_phone_width_keeps_the_table_scrollable(report_page, report_dir):
    page = report_page.open(report_dir / "index.html")
    page.run(lambda p: p.set_viewport_size({"width": 390, "height": 844}))
    overflow = page.evaluate("getComputedStyle(document.querySelector('.scroll')).overflowX")
    assert overflow == "auto"
    assert page.evaluate("document.documentElement.scrollWidth") <= 420   # the page itself does not scroll sideways
    page.screenshot("report-index-phone")
