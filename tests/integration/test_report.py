"""The monitor playbook against the lab: the report's files, values, safety and re-rendering."""
from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
import re
import shutil
from pathlib import Path

import openpyxl
import pytest

from lab.profiles.iosxe import HOSTILE as LAB_HOSTILE
from tests.integration.conftest import run_playbook
from tests.lablib import ROOT

HOSTILE = "<script>window.__johann_xss=1</script>"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")   # what a spreadsheet may run as a formula (CSV injection)


@pytest.fixture(scope="session")
def report(lab, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    run = run_playbook(lab, ROOT / "playbooks/monitor.yml", "-e", f"johann_report_dir={out}",
                       "-e", "target=all:!hang")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    return {"dir": out, "stdout": run.stdout, "hosts": sorted(_hosts(lab) - {"hang"})}


def _hosts(lab) -> set[str]:
    return {h for g in lab.inventory["all"]["children"]["lab"]["children"].values() for h in g["hosts"]}


def test_every_file_is_written_and_nothing_half_written_remains(report):
    out: Path = report["dir"]
    for name in ("index.html", "stats.html", "licensing.html", "devices.csv", "devices.xlsx", "interfaces.csv",
                 "fleet.json.gz", "assets/report.css", "assets/report.js"):
        assert (out / name).stat().st_size > 500, name
    assert not (out / "fleet.json").exists()   # the records are stored compressed only
    pages = {p.name for p in (out / "devices").glob("*.html")}
    assert pages == {f"{h}.html" for h in report["hosts"]}
    assert not [p for p in out.rglob("*.tmp")]
    assert re.search(r"Report: \S+/index.html \(\d+ devices: \d+ ok, 1 degraded, 1 auth_failed", report["stdout"])


def test_index_lists_every_device_with_its_status_and_cause(report):
    html = (report["dir"] / "index.html").read_text()
    for host in report["hosts"]:
        assert f'href="devices/{host}.html"' in html
    row = html[html.index('href="devices/badpass.html"'):]
    row = row[: row.index("</tr>")]
    assert "Auth failed" in row and "authentication failed: 401 access-denied" in row


def test_hostile_strings_are_escaped_everywhere(report):
    for page in [report["dir"] / "index.html", report["dir"] / "devices" / "hostile.html",
                 report["dir"] / "stats.html"]:
        html = page.read_text()
        assert "window.__johann_xss" in html                      # the payload is there, as text
        assert HOSTILE not in html and "<svg/onload" not in html and '<img src=x onerror' not in html
        assert "&lt;script&gt;window.__johann_xss=1&lt;/script&gt;" in html


def test_pages_allow_only_their_own_script(report):
    """The report's own files only ('self': assets/report.js); no inline script, nothing from the network."""
    for name, root in (("index.html", ""), ("devices/c9300.html", "../")):
        html = (report["dir"] / name).read_text()
        csp = re.search(r'Content-Security-Policy" content="([^"]+)"', html).group(1)
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
        assert directives["default-src"] == "'none'" and directives["script-src"] == "'self'"
        assert directives["style-src"] == "'self' 'unsafe-inline'"
        scripts = re.findall(r"<script[^>]*>", html)
        assert scripts == (['<script type="application/json" id="fleet-rows">'] if name == "index.html" else []) + \
            [f'<script src="{root}assets/report.js">'], scripts
        assert "http://" not in html.split("<body>")[1].replace("http://cslu", "")


def test_csv_exports_hold_the_truth(lab, report):
    rows = {r["host"]: r for r in csv.DictReader((report["dir"] / "devices.csv").open())}
    truth = lab.truth("c9300")
    assert rows["c9300"]["serial"] == truth["serial"] and rows["c9300"]["status"] == "ok"
    assert rows["badpass"]["status"] == "auth_failed"
    assert rows["hostile"]["hostname"].startswith("'<script>") or rows["hostile"]["hostname"] == HOSTILE
    interfaces = [r for r in csv.DictReader((report["dir"] / "interfaces.csv").open()) if r["host"] == "c9300"]
    assert len(interfaces) == len(truth["interfaces"])
    gi = next(r for r in interfaces if r["name"] == "TenGigabitEthernet1/1/1")
    assert int(gi["in_octets"]) == truth["interfaces"]["TenGigabitEthernet1/1/1"]["counters"]["in-octets"]


def test_csv_cells_cannot_become_formulas(report):
    text = (report["dir"] / "devices.csv").read_text()
    assert not re.search(r"(^|,)[=+@]", text, re.M)


def test_rerender_from_stored_records_is_identical_but_for_the_time(lab, report, tmp_path):
    """Same pages from fleet.json.gz; only the time differs, and the history line says why it is off."""
    copy = tmp_path / "copy"
    shutil.copytree(report["dir"], copy)
    run = run_playbook(lab, ROOT / "playbooks/report.yml", "-e", f"johann_report_dir={copy}")
    assert run.returncode == 0, run.stdout[-2000:]
    assert "History is off: re-rendered from fleet.json" in (copy / "index.html").read_text()
    generated = re.compile(r'Generated <time datetime="[^"]+">[^<]+</time>|"generated_at": ?"[^"]+"'
                           r'|<p class="history-off">History is off: [^<]+</p>')
    for original in report["dir"].rglob("*"):
        if original.is_file() and original.suffix == ".xlsx":   # a zip: the same cells (its creation time differs)
            assert _cells(copy / original.relative_to(report["dir"])) == _cells(original)
        elif original.is_file() and original.suffix == ".gz":   # the stored records: the same but for the time
            again = json.loads(gzip.decompress((copy / original.relative_to(report["dir"])).read_bytes()))
            first = json.loads(gzip.decompress(original.read_bytes()))
            assert {**again, "generated_at": None, "seen": None} == {**first, "generated_at": None, "seen": None}
        elif original.is_file():
            again = copy / original.relative_to(report["dir"])
            assert generated.sub("", again.read_text()) == generated.sub("", original.read_text()), original.name


def _cells(path: Path) -> dict[str, list[tuple]]:
    book = openpyxl.load_workbook(path)
    return {sheet.title: [tuple((c.data_type, c.value) for c in row) for row in sheet.iter_rows()] for sheet in book}


def _csv_text(value) -> str:
    """A value as the CSV exports write it: text a spreadsheet would run as a formula gets a leading quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _moment(text: str) -> dt.datetime | None:
    """A CSV time (ISO 8601, ``Z``, an offset or `` UTC``) as the naive UTC time a workbook holds; None if not one."""
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace(" UTC", "+00:00").replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _as_csv(value, text: str) -> str:
    """An XLSX cell's value as devices.csv writes it: a time as the CSV's text when it is the same moment,
    text that would run as a formula with the CSV's leading quote."""
    if isinstance(value, dt.datetime):
        return text if _moment(text) == value else value.isoformat()
    if isinstance(value, int) and not isinstance(value, bool) and text.endswith(".0"):   # 48.0 reads back as 48
        return text if float(text) == value else _csv_text(value)
    return _csv_text(value)


def _sheet(path: Path, name: str) -> tuple[list[str], list[list]]:
    sheet = openpyxl.load_workbook(path)[name]
    header = [c.value for c in sheet[1]]
    return header, [list(row) for row in sheet.iter_rows(min_row=2)]


def test_xlsx_export_holds_the_csvs_values(lab, report):
    """devices.xlsx, read back with openpyxl: the rows and values of the CSVs, typed, and device text as text."""
    out: Path = report["dir"]
    for name, csv_name in (("Devices", "devices.csv"), ("Interfaces", "interfaces.csv")):
        header, rows = _sheet(out / "devices.xlsx", name)
        with (out / csv_name).open(newline="") as f:
            csv_rows = list(csv.reader(f))
        assert len(rows) == len(csv_rows) - 1 > 0, name
        width = len(csv_rows[0])
        assert [h.removesuffix(" (UTC)") for h in header[:width]] == csv_rows[0]
        for cells, line in zip(rows, csv_rows[1:], strict=True):
            assert [_as_csv(c.value, text) for c, text in zip(cells[:width], line, strict=True)] == line

    header, rows = _sheet(out / "devices.xlsx", "Devices")
    devices = {r[0].value: dict(zip(header, r, strict=True)) for r in rows}
    by_csv = {r["host"]: r for r in csv.DictReader((out / "devices.csv").open(newline=""))}
    assert sorted(devices) == sorted(by_csv) == report["hosts"]
    truth = lab.truth("c9300")
    c9300 = devices["c9300"]
    assert (c9300["serial"].data_type, c9300["serial"].value) == ("s", truth["serial"])
    assert c9300["serial"].value == by_csv["c9300"]["serial"]
    assert c9300["hostname"].value == by_csv["c9300"]["hostname"] == "c9300"
    assert c9300["cpu_5min_percent"].data_type == "n"
    assert c9300["cpu_5min_percent"].value == float(by_csv["c9300"]["cpu_5min_percent"])
    assert c9300["polled_at (UTC)"].is_date and c9300["rommon"].value and c9300["iox"].data_type == "b"
    assert devices["badpass"]["status"].value == "auth_failed" and devices["badpass"]["serial"].value is None
    assert devices["hostile"]["hostname"].data_type == "s"
    assert devices["hostile"]["hostname"].value == LAB_HOSTILE["hostname"]

    header, rows = _sheet(out / "devices.xlsx", "Interfaces")
    interfaces = [dict(zip(header, r, strict=True)) for r in rows]
    by_csv = list(csv.DictReader((out / "interfaces.csv").open(newline="")))
    for host in report["hosts"]:
        ours = [i for i in interfaces if i["host"].value == host]
        assert len(ours) == len([r for r in by_csv if r["host"] == host]), host
        assert len(ours) == devices[host]["interfaces_total"].value or (
            not ours and devices[host]["interfaces_total"].value in (0, None)), host
    assert len([i for i in interfaces if i["host"].value == "c9300"]) == len(truth["interfaces"])

    # the hostile device's description: a text cell holding the payload, the CSV's text without its guard
    (cell,) = [i["description"] for i in interfaces if i["host"].value == "hostile"
               and i["description"].value == LAB_HOSTILE["description"]]
    assert cell.data_type == "s"
    (text,) = [r["description"] for r in by_csv if r["host"] == "hostile" and "__johann_xss=2" in r["description"]]
    guarded = text.startswith("'") and text[1:].startswith(FORMULA_START)
    assert (text[1:] if guarded else text) == cell.value == LAB_HOSTILE["description"]


def test_thresholds_raise_alerts_in_the_report_and_the_result(lab, tmp_path):
    out = tmp_path / "r"
    run = run_playbook(lab, ROOT / "playbooks/monitor.yml", "-e", f"johann_report_dir={out}", "-e", "target=c9300,csr",
                       "-e", '{"johann_thresholds": {"cpu_percent": {"warning": 0, "critical": 101}}}')
    assert run.returncode == 0, run.stdout[-2000:]
    assert "2 alerting" in run.stdout
    html = (out / "devices" / "c9300.html").read_text()
    assert "CPU" in html and "(threshold 0%)" in html
    fleet = json.loads(gzip.decompress((out / "fleet.json.gz").read_bytes()))
    (alert,) = [a for a in fleet["devices"]["c9300"]["alerts"] if a["kind"] == "cpu"]   # device_info's evaluation,
    assert alert["level"] == "warning" and "(threshold 0%)" in alert["message"]         # the one the page shows
    assert alert["message"] in html.replace("&#39;", "'")


def test_stale_pages_are_removed_and_own_templates_win(lab, tmp_path):
    out = tmp_path / "r"
    (out / "devices").mkdir(parents=True)
    (out / "devices" / "gone-device.html").write_text("old")
    own = tmp_path / "templates"
    own.mkdir()
    (own / "licensing.html").write_text('{% extends "base.html" %}{% block main %}<p id="mine">{{ devices | length }} '
                                        'devices, my own page</p>{% endblock %}')
    run = run_playbook(lab, ROOT / "tests/integration/report_custom.yml", "-e", f"johann_report_dir={out}",
                       "-e", f"templates_dir={own}")
    assert run.returncode == 0, run.stdout[-2000:]
    assert not (out / "devices" / "gone-device.html").exists()
    assert '<p id="mine">2 devices, my own page</p>' in (out / "licensing.html").read_text()
    assert "Fleet overview" in (out / "index.html").read_text()


def test_a_broken_template_fails_clearly_and_keeps_the_old_report(lab, tmp_path):
    out = tmp_path / "r"
    out.mkdir()
    (out / "index.html").write_text("previous report")
    own = tmp_path / "templates"
    own.mkdir()
    (own / "index.html").write_text('{% extends "base.html" %}{% block main %}{{ no_such_variable }}{% endblock %}')
    run = run_playbook(lab, ROOT / "tests/integration/report_custom.yml", "-e", f"johann_report_dir={out}",
                       "-e", f"templates_dir={own}")
    assert run.returncode != 0
    assert "no_such_variable" in run.stdout and "is undefined" in run.stdout
    assert (out / "index.html").read_text() == "previous report"


def test_fail_on_error_makes_the_run_fail_after_writing_the_report(lab, tmp_path):
    out = tmp_path / "r"
    run = run_playbook(lab, ROOT / "playbooks/monitor.yml", "-e", f"johann_report_dir={out}",
                       "-e", "target=c9300,badpass", "-e", "johann_fail_on_error=true")
    assert run.returncode == 2
    assert "1 of 2 devices are not ok: badpass (the report has the causes)" in run.stdout
    assert 'href="devices/badpass.html"' in (out / "index.html").read_text()
    ok = run_playbook(lab, ROOT / "playbooks/monitor.yml", "-e", f"johann_report_dir={out}", "-e", "target=c9300",
                      "-e", "johann_fail_on_error=true")
    assert ok.returncode == 0
