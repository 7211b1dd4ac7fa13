"""devices.xlsx: typed cells, device text that stays text, the sheet's furniture, broken devices.

The workbook is written by xlsx.py (and spreadsheetml.py) and read back with openpyxl (another
library, so the file is checked, not the writer's idea of it), and its package is checked part by part
against the rules Excel enforces. openpyxl returns Excel's ``_xHHHH_`` escapes as they are stored:
``excel_text`` decodes them the way Excel does.
"""
from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import re
import zipfile
from xml.etree import ElementTree

import openpyxl
import pytest
from ansible_collections.johann.monitor.plugins.plugin_utils._report import view, writer, xlsx
from ansible_collections.johann.monitor.plugins.plugin_utils._report.render import render_report
from openpyxl.utils import get_column_letter

from tests.lablib import ROOT

TEMPLATES = [ROOT / "reports" / "templates"]
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
HOSTILE = [
    '=HYPERLINK("http://evil.example/","x")', "@SUM(1)", "+cmd|' /C calc'!A0", "-2+3", "=1+1", "0123", "1e5",
    "TRUE", "http://evil.example/x", "\t=1", "<script>window.x=1</script>", "_x0041_", "  padded  ",
    # markup of the sheet's own: without escaping this one would add a formula cell B2 to the sheet (a writer
    # that passes "rich strings" through, as XlsxWriter did, writes it into the XML as it is)
    '<r><t>a</t></r></is></c><c r="B2"><f>1+1</f></c><c r="C2" t="inlineStr"><is><r><t>b</t></r>',
    "<r></r>", "<r>x</r>",
]


def excel_text(value):
    """A string cell's text as Excel shows it (``_xHHHH_`` is the character HHHH)."""
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), value)


def interface(name, **values):
    return {"name": name, "description": None, "type": "ethernet", "admin_status": "up", "oper_status": "up",
            "mtu": 1500, "speed": 1_000_000_000, "duplex": "full", "mac": "00:a3:d1:00:00:01", "vrf": None,
            "ipv4": [{"address": "10.0.0.1", "netmask": "255.255.255.0", "prefix_length": 24}], "ipv6": [],
            "last_change": "2026-11-05T12:14:53.288Z", "last_change_seconds_ago": 100,
            "counters": {"in_octets": 1078034194534, "out_octets": 4149185774461, "in_errors": 3, "in_crc_errors": 0,
                         "in_discards": 0, "out_errors": 0, "out_discards": 0},
            "counter_widths": {}, "flaps": 0, "rates": {"in_bps": 4376000, "out_bps": 16844000}, **values}


def record(host, **values):
    rec = {
        "schema": 1, "host": host, "address": "192.0.2.7", "port": 443, "status": "ok", "message": None,
        "platform": "iosxe", "restconf_root": "/restconf", "root_source": "host-meta",
        "polled_at": "2026-11-29T10:51:05.708Z", "duration": 0.114, "requests": 14, "notes": [],
        "identity": {"hostname": host, "vendor": "Cisco", "platform": "iosxe", "model": "C9300-48P",
                     "serial": "FOC2CNG009G", "os_version": "17.9", "os_version_full": "17.9.4a",
                     "software_version": "Cisco IOS XE Software, Version 17.9.4a", "uptime": 2068607,
                     "boot_time": "2026-11-05T12:14:18.288Z", "current_time": "2026-11-29T10:51:05.793Z",
                     "rommon": "17.8.1r[FC1]", "last_reboot_reason": "Reload Command", "reload_history": [],
                     "unsaved_config": False},
        "config": {"users": [{"name": "admin", "privilege": 15}], "domain": "example.net",
                   "default_gateway": "10.0.0.254", "name_servers": ["10.0.0.53", "10.0.1.53"],
                   "ntp_servers": ["10.0.0.123"], "spanning_tree_mode": "rapid-pvst", "iox": True,
                   "snmp": {"communities": [{"name": "********", "permission": "ro"}], "groups": ["NMS"],
                            "users": ["nmsuser"], "location": "rack 4"}, "boot_files": ["flash:packages.conf"]},
        "cpu": {"five_seconds": 12, "one_minute": 13, "five_minutes": 10, "user": 6.86, "system": 4.2,
                "idle": 88.94, "per_core": [{"name": "0", "user": 7.77, "system": 4.2, "idle": 88.03}]},
        "memory": {"status": "Healthy", "total": 1999981000, "used": 751841975, "used_percent": 37.6},
        "storage": {"partitions": [{"name": "bootflash:", "used_percent": 34.7, "used": 1, "total": 3}],
                    "images": ["packages.conf"]},
        "interfaces": [interface("GigabitEthernet1/0/1", description="uplink"),
                       interface("GigabitEthernet1/0/2", oper_status="down", speed=None),
                       interface("GigabitEthernet1/0/3", admin_status="down", oper_status="down")],
        "environment": [], "neighbors": {"cdp": [], "lldp": []}, "arp": [],
        "licensing": {"transport": "cslu", "cslu_url": None, "policy": "Cisco default",
                      "last_report": "2026-11-20T10:51:05.000Z", "next_report": "2026-12-20T10:51:05.000Z",
                      "udi": {"pid": "C9300-48P", "serial": "FOC2CNG009G"},
                      "usage": [{"name": "dna-advantage", "count": 1, "status": "in-use"}]},
        "sections": {}, "alerts": [],
    }
    rec.update(values)
    return rec


def views(records):
    devices = [view.safe_device_view(host, rec) for host, rec in records.items()]
    for d in devices:
        d["trend"] = None
    return devices


def workbook(devices):
    data = xlsx.devices_xlsx(devices, "t", "2026-11-29T11:00:00Z")
    return openpyxl.load_workbook(io.BytesIO(data)), data


def rows(sheet):
    """The rows of a sheet below its header, each as {header: cell}."""
    header = [c.value for c in sheet[1]]
    return [dict(zip(header, r, strict=True)) for r in sheet.iter_rows(min_row=2)]


def test_cells_are_typed():
    book, _ = workbook(views({"r1": record("r1")}))
    assert book.sheetnames == ["Devices", "Interfaces"]
    (device,) = rows(book["Devices"])
    assert [c.value for c in book["Devices"][1]] == [c.header for c in xlsx.DEVICE_SHEET]
    assert [c.value for c in book["Devices"][1]][:len(writer.DEVICE_COLUMNS)] == [
        f"{name} (UTC)" if name == "polled_at" else name for name in writer.DEVICE_COLUMNS]
    expected = {"host": "r1", "status": "ok", "serial": "FOC2CNG009G", "uptime_seconds": 2068607,
                "cpu_5min_percent": 10, "memory_used_percent": 37.6, "interfaces_up": 1, "interfaces_down": 1,
                "interfaces_admin_down": 1, "polled_at (UTC)": dt.datetime(2026, 11, 29, 10, 51, 5),
                "boot_time (UTC)": dt.datetime(2026, 11, 5, 12, 14, 18, 288000), "rommon": "17.8.1r[FC1]",
                "last_reboot_reason": "Reload Command", "unsaved_config": False, "iox": True,
                "domain": "example.net", "ntp_servers": "10.0.0.123", "name_servers": "10.0.0.53, 10.0.1.53",
                "local_users": "admin (15)", "snmp_communities": 1, "snmp_location": "rack 4",
                "memory_status": "Healthy", "memory_total_bytes": 1999981000, "cpu_user_percent": 6.86,
                "interfaces_total": 3, "licenses": "dna-advantage ×1 (in-use)", "poll_seconds": 0.114,
                "license_next_report (UTC)": dt.datetime(2026, 12, 20, 10, 51, 5), "message": None}
    assert {k: device[k].value for k in expected} == expected
    kinds = {k: device[k].data_type for k in ("host", "uptime_seconds", "memory_used_percent", "iox",
                                              "polled_at (UTC)", "message")}
    assert kinds == {"host": "s", "uptime_seconds": "n", "memory_used_percent": "n", "iox": "b",
                     "polled_at (UTC)": "d", "message": "n"}   # an empty cell reads as None, type n
    assert device["polled_at (UTC)"].number_format == xlsx.DATE_FORMAT
    assert device["uptime_seconds"].number_format == "#,##0"

    interfaces = rows(book["Interfaces"])
    assert [i["name"].value for i in interfaces] == ["GigabitEthernet1/0/1", "GigabitEthernet1/0/2",
                                                     "GigabitEthernet1/0/3"]
    first = interfaces[0]
    assert (first["in_octets"].value, first["in_octets"].data_type) == (1078034194534, "n")
    assert first["last_change (UTC)"].value == dt.datetime(2026, 11, 5, 12, 14, 53, 288000)
    assert (first["ipv4"].value, first["description"].value, first["speed_bps"].value) == (
        "10.0.0.1/24", "uplink", 1_000_000_000)
    assert interfaces[1]["speed_bps"].value is None


def test_the_rows_are_the_csvs():
    """Same rows, same order, same values as devices.csv and interfaces.csv (the CSV's text of each cell)."""
    devices = views({"r1": record("r1"), "r2": record("r2", status="unreachable", message="timed out"),
                     "gone": None})
    book, _ = workbook(devices)
    for sheet, text in ((book["Devices"], writer.devices_csv(devices)),
                        (book["Interfaces"], interfaces_csv(devices))):
        csv_rows = list(csv.reader(io.StringIO(text)))
        got = [[c.value for c in r][:len(csv_rows[0])] for r in sheet.iter_rows(min_row=2)]
        assert len(got) == len(csv_rows) - 1 > 0
        for ours, theirs in zip(got, csv_rows[1:], strict=True):
            assert [as_csv(mine, text) for mine, text in zip(ours, theirs, strict=True)] == theirs


def interfaces_csv(devices):
    """interfaces.csv of these devices, written as the report writes it (render.exports)."""
    out = io.StringIO()
    rows = writer.interface_rows_csv(out)
    for d in devices:
        rows(xlsx.interface_rows(d))
    return out.getvalue()


def as_csv(value, text):
    """A cell's value as the CSV writes it (a time: the CSV's own text when it is the same moment)."""
    if isinstance(value, dt.datetime):
        return text if xlsx.utc_datetime(text) == value else value.isoformat()
    return "" if value is None else str(value)


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_strings_stay_plain_text(text):
    rec = record("r1", interfaces=[interface("Gi1", description=text)])
    rec["identity"] = dict(rec["identity"], hostname=text, serial=text)
    book, data = workbook(views({"r1": rec}))
    (device,) = rows(book["Devices"])
    (intf,) = rows(book["Interfaces"])
    for cell in (device["hostname"], device["serial"], intf["description"]):
        assert (cell.data_type, excel_text(cell.value)) == ("s", text)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/sheet"):   # the cells are ours only: no formula, none twice
                tree = ElementTree.fromstring(archive.read(name))
                cells = [c.get("r") for c in tree.iter(f"{MAIN}c")]
                assert len(cells) == len(set(cells)) and not list(tree.iter(f"{MAIN}f")), name
                assert not list(tree.iter(f"{MAIN}hyperlink")), name


def test_control_characters_are_carried():
    text = "".join(chr(n) for n in range(32)) + "end\r\n_x0041_\ufffe"
    rec = record("r1", interfaces=[interface("Gi1", description=text)])
    book, _ = workbook(views({"r1": rec}))
    cell = rows(book["Interfaces"])[0]["description"]
    assert cell.data_type == "s" and excel_text(cell.value) == text


def test_the_devices_own_cpu_average_has_columns_and_cpu_5min_stays_the_5_minute_figure():
    eos = record("eos", platform="openconfig", cpu={"five_seconds": 93, "one_minute": None, "five_minutes": None,
                                                    "average": 91, "average_seconds": 1000})
    book, _ = workbook(views({"r1": record("r1"), "eos": eos}))
    by_host = {d["host"].value: d for d in rows(book["Devices"])}
    assert [(by_host["eos"][k].data_type, by_host["eos"][k].value)
            for k in ("cpu_average_percent", "cpu_average_seconds", "cpu_5min_percent")] == \
        [("n", 91), ("n", 1000), ("n", None)]
    assert [by_host["r1"][k].value for k in ("cpu_average_percent", "cpu_average_seconds", "cpu_5min_percent")] == \
        [None, None, 10]


def test_lone_surrogates_and_non_finite_numbers_do_not_break_the_workbook():
    rec = record("r1", cpu={"five_minutes": float("nan"), "five_seconds": float("inf"), "one_minute": 10**400})
    rec["identity"] = dict(rec["identity"], hostname="bad\ud800name")
    book, _ = workbook(views({"r1": rec}))
    (device,) = rows(book["Devices"])
    assert device["hostname"].value == "bad\ufffdname"
    assert [(device[k].data_type, device[k].value) for k in ("cpu_5min_percent", "cpu_5s_percent")] == [
        ("s", "nan"), ("s", "inf")]
    assert device["cpu_1min_percent"].data_type == "s" and device["cpu_1min_percent"].value.startswith("1000")


def test_counters_past_a_doubles_precision_are_numbers_rounded_as_excel_holds_them():
    counters = dict(interface("Gi1")["counters"], in_octets=2**64 - 1)
    book, _ = workbook(views({"r1": record("r1", interfaces=[interface("Gi1", counters=counters)])}))
    cell = rows(book["Interfaces"])[0]["in_octets"]
    assert cell.data_type == "n" and cell.value == pytest.approx(2**64 - 1, rel=1e-15)


@pytest.mark.parametrize("unit", ["x", "é", "\U0001F600"])
def test_strings_over_excels_limit_are_cut_with_a_marker(unit):
    long = unit * 40000
    book, _ = workbook(views({"r1": record("r1", interfaces=[interface("Gi1", description=long)])}))
    value = rows(book["Interfaces"])[0]["description"].value
    assert value.endswith(xlsx.TRUNCATED) and long.startswith(value[:-len(xlsx.TRUNCATED)])
    assert len(value.encode("utf-16-le")) // 2 <= xlsx.MAX_CHARS
    assert len(value.encode("utf-16-le")) // 2 > xlsx.MAX_CHARS - 2 - len(xlsx.TRUNCATED)
    exact = "y" * xlsx.MAX_CHARS   # at the limit: kept whole
    book, _ = workbook(views({"r1": record("r1", interfaces=[interface("Gi1", description=exact)])}))
    assert rows(book["Interfaces"])[0]["description"].value == exact


def test_header_filter_frozen_panes_and_widths():
    devices = views({f"r{n}": record(f"r{n}") for n in range(3)})
    book, _ = workbook(devices)
    devices_sheet, interfaces = book["Devices"], book["Interfaces"]
    last = get_column_letter(len(xlsx.DEVICE_SHEET))
    assert devices_sheet.auto_filter.ref == f"A1:{last}4"
    assert interfaces.auto_filter.ref == f"A1:{get_column_letter(len(writer.INTERFACE_COLUMNS))}10"
    assert devices_sheet.freeze_panes == interfaces.freeze_panes == "B2"
    assert all(c.font.b for c in devices_sheet[1])
    widths = {letter: dim.width for letter, dim in devices_sheet.column_dimensions.items()}
    assert widths["A"] > 15 and widths["C"] > 35 and all(w >= 7 for w in widths.values())


def test_time_cells_from_any_iso_form():
    assert xlsx.utc_datetime("2026-11-29T10:51:05.708Z") == dt.datetime(2026, 11, 29, 10, 51, 5, 708000)
    assert xlsx.utc_datetime("2026-11-29 10:51:05 UTC") == dt.datetime(2026, 11, 29, 10, 51, 5)
    assert xlsx.utc_datetime("2026-11-29T10:51:05.123456789+02:00") == dt.datetime(2026, 11, 29, 8, 51, 5, 123456)
    assert xlsx.utc_datetime("2026-11-29T00:30:00-0130") == dt.datetime(2026, 11, 29, 2, 0)
    for odd in ("yesterday", "2026-13-01T00:00:00Z", "1899-12-31T00:00:00Z", "", None, 17):
        assert xlsx.utc_datetime(odd) is None
    rec = record("r1", interfaces=[interface("Gi1", last_change="not a time")])
    cell = rows(workbook(views({"r1": rec}))[0]["Interfaces"])[0]["last_change (UTC)"]
    assert (cell.data_type, cell.value) == ("s", "not a time")


def test_a_broken_device_still_gets_a_row_and_costs_the_others_nothing():
    devices = views({"a": record("a"), "b": record("b"), "c": record("c")})
    devices[1]["interfaces"] = None   # the view breaks: its row cannot be built
    devices[1]["record"] = copy.deepcopy(devices[1]["record"])
    devices[1]["record"]["interfaces"] = "not a list"   # nor its interfaces
    book, _ = workbook(devices)
    got = {r["host"].value: r for r in rows(book["Devices"])}
    assert list(got) == ["a", "b", "c"]
    assert got["b"]["status"].value == "error"
    assert got["b"]["message"].value.startswith("this device's row could not be written (TypeError: ")
    assert got["a"]["serial"].value == got["c"]["serial"].value == "FOC2CNG009G"
    assert [r["host"].value for r in rows(book["Interfaces"])] == ["a"] * 3 + ["c"] * 3


def test_the_report_writes_the_workbook(tmp_path):
    records = {"r1": record("r1"), "r2": record("r2", status="auth_failed", message="401"), "gone": None}
    summary = render_report(records, tmp_path, TEMPLATES, "t", "2026-11-29T11:00:00Z")
    assert summary["export_errors"] == {} and "warnings" not in summary
    book = openpyxl.load_workbook(tmp_path / "devices.xlsx")
    assert [r["host"].value for r in rows(book["Devices"])] == ["gone", "r1", "r2"]
    assert [r["status"].value for r in rows(book["Devices"])] == ["missing", "ok", "auth_failed"]
    assert (tmp_path / "devices.xlsx").stat().st_mode & 0o777 == 0o644
    assert 'href="devices.xlsx"' in (tmp_path / "index.html").read_text()
    assert book.properties.title == "t" and book.properties.created == dt.datetime(2026, 11, 29, 11, 0)


PACKAGE = "{http://schemas.openxmlformats.org/package/2006/content-types}"
RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
SHEET_ORDER = ["dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData", "autoFilter", "pageMargins"]


def test_the_package_is_well_formed():
    """What Excel checks and openpyxl forgives: every part is XML with a content type, every relationship has its
    target, a sheet's children come in the schema's order, its range is its filter's and the workbook's name."""
    devices = views({f"r{n}": record(f"r{n}") for n in range(2)})
    _book, data = workbook(devices)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        assert archive.testzip() is None
        parts = {name: ElementTree.fromstring(archive.read(name)) for name in names}   # each one parses
    assert len(names) == len(set(names)) == 9
    types = parts["[Content_Types].xml"]
    overridden = {o.get("PartName").lstrip("/") for o in types.iter(f"{PACKAGE}Override")}
    assert overridden == {n for n in names if not n.endswith(".rels") and n != "[Content_Types].xml"}
    assert {d.get("Extension") for d in types.iter(f"{PACKAGE}Default")} == {"rels", "xml"}
    for rels, base in (("_rels/.rels", ""), ("xl/_rels/workbook.xml.rels", "xl/")):
        targets = [base + r.get("Target") for r in parts[rels].iter(f"{RELS}Relationship")]
        assert targets and all(t in names for t in targets), rels
    workbook_names = {d.get("localSheetId"): d.text for d in parts["xl/workbook.xml"].iter(f"{MAIN}definedName")}
    for number, (name, columns, count) in enumerate((("Devices", xlsx.DEVICE_SHEET, 2),
                                                     ("Interfaces", xlsx.INTERFACE_SHEET, 6)), start=1):
        sheet = parts[f"xl/worksheets/sheet{number}.xml"]
        assert [child.tag.removeprefix(MAIN) for child in sheet] == SHEET_ORDER
        ref = f"A1:{get_column_letter(len(columns))}{count + 1}"
        assert sheet.find(f"{MAIN}dimension").get("ref") == sheet.find(f"{MAIN}autoFilter").get("ref") == ref
        assert workbook_names[str(number - 1)] == f"{name}!$A$1:${get_column_letter(len(columns))}${count + 1}"
        assert len(sheet.findall(f"{MAIN}sheetData/{MAIN}row")) == count + 1
        assert len(sheet.findall(f"{MAIN}cols/{MAIN}col")) == len(columns)
    assert [s.get("name") for s in parts["xl/workbook.xml"].iter(f"{MAIN}sheet")] == ["Devices", "Interfaces"]


@pytest.mark.parametrize("text", ['a & b < c > d "e" \'f\'', "_x0041_ and _X004a_ and _x12_", "x_x0041_y_xZZZZ_",
                                  "_x0041_x0042_", "_x005F_x0041_", "_x0041\x01 _x0041\r _x0041\ufffe",
                                  "tab\there", " lead", "trail ", "\u00e9t\u00e9 \u2603 \U0001F600"])
def test_text_that_needs_escaping_reads_back_as_it_was(text):
    rec = record("r1", interfaces=[interface("Gi1", description=text)])
    book, _ = workbook(views({"r1": rec}))
    cell = rows(book["Interfaces"])[0]["description"]
    assert (cell.data_type, excel_text(cell.value)) == ("s", text)


@pytest.mark.parametrize(("text", "moment"), [
    ("1900-01-01T00:00:00Z", dt.datetime(1900, 1, 1)),
    ("1900-02-28T12:00:00Z", dt.datetime(1900, 2, 28, 12)),
    ("1900-03-01T00:00:00Z", dt.datetime(1900, 3, 1)),
    ("2026-11-29T10:51:05.708Z", dt.datetime(2026, 11, 29, 10, 51, 5, 708000)),
    ("9999-12-31T23:59:59Z", dt.datetime(9999, 12, 31, 23, 59, 59)),
])
def test_times_read_back_as_the_same_moment(text, moment):
    """Excel's serial numbers count a 29 February 1900 that never was: the times on both sides of it come back."""
    rec = record("r1", interfaces=[interface("Gi1", last_change=text)])
    cell = rows(workbook(views({"r1": rec}))[0]["Interfaces"])[0]["last_change (UTC)"]
    assert (cell.data_type, cell.value) == ("d", moment)


def test_excel_serial_numbers():
    """Excel's own numbers: 1 is 1900-01-01, 60 the 29 February 1900 it counts, 25569 the Unix epoch."""
    serial = xlsx.sml.excel_serial
    assert serial(dt.datetime(1900, 1, 1)) == 1
    assert serial(dt.datetime(1900, 2, 28, 12)) == 59.5
    assert serial(dt.datetime(1900, 3, 1)) == 61
    assert serial(dt.datetime(1970, 1, 1)) == 25569
    assert serial(dt.datetime(2026, 11, 29, 18)) == 25569 + 20786 + 0.75


def test_a_workbook_that_fails_half_way_is_reported_not_raised(tmp_path, monkeypatch):
    def broken(*_args):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(xlsx._Sheet, "finish", broken)
    summary = render_report({"r1": record("r1")}, tmp_path, TEMPLATES, "t", "2026-11-29T11:00:00Z")
    assert summary["export_errors"] == {"devices.xlsx": "OSError: [Errno 28] No space left on device"}
    assert (tmp_path / "index.html").exists() and not (tmp_path / "devices.xlsx").exists()
    assert not list(tmp_path.glob(".johann-staging-*"))
