"""One device never costs the others their report: page errors, fleet pages, forked writers (render.py, pages.py)."""
from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from ansible_collections.johann.monitor.plugins.plugin_utils._report import pages, render
from ansible_collections.johann.monitor.plugins.plugin_utils._report.project import COLLECTION_TEMPLATES
from jinja2 import UndefinedError

COLLECTIONS = str(Path(__file__).resolve().parents[7])


def _records(count: int) -> dict[str, dict]:
    return {f"r{n:03d}": {"host": f"r{n:03d}", "status": "ok", "message": None, "address": f"192.0.2.{n % 250}",
                          "identity": {"hostname": f"r{n:03d}", "serial": f"SN{n:03d}"}} for n in range(count)}


def _templates(tmp_path: Path, **pages: str) -> list[Path]:
    own = tmp_path / "templates"
    own.mkdir(exist_ok=True)
    for name, text in pages.items():
        (own / f"{name}.html").write_text(text)
    return [own, COLLECTION_TEMPLATES]


def _render(records: dict, out: Path, dirs: list[Path]) -> dict:
    return render.render_report(records, out, dirs, "<t>", "2026-11-29T00:00:00Z")


BREAKS_ON_R001 = ('{% extends "base.html" %}{% block main %}{% if d.host == "r001" %}{{ d.nope.deeper }}{% endif %}'
                  '<h1>{{ d.host }}</h1>{% endblock %}')


@pytest.mark.parametrize("count", [3, pages.PARALLEL_FROM + 20])   # in process, and in forked writers
def test_a_page_that_cannot_be_rendered_gets_a_plain_page_and_the_index_says_why(tmp_path, count):
    out = tmp_path / "out"
    summary = _render(_records(count), out, _templates(tmp_path, device=BREAKS_ON_R001))
    problem = "UndefinedError: 'dict object' has no attribute 'nope'"
    assert summary["page_errors"] == {"r001": problem}
    assert summary["statuses"]["error"] == 1 and summary["statuses"]["ok"] == count - 1
    assert summary["not_ok"]["r001"] == f"error: the report could not render this device's page ({problem}); " \
                                        f"device_info's status: ok"
    page = (out / "devices" / "r001.html").read_text()
    assert "This page could not be rendered:</strong> UndefinedError: &#x27;dict object&#x27;" in page
    assert "&lt;t&gt;" in page and "<t>" not in page   # escaped, like every value there
    assert "<h1>r002</h1>" in (out / "devices" / "r002.html").read_text()
    index = (out / "index.html").read_text()
    assert "the report could not render this device&#39;s page" in index
    assert len(list((out / "devices").glob("*.html"))) == count


def test_a_device_whose_data_break_a_fleet_page_is_an_error_row_there(tmp_path):
    index = ('{% extends "base.html" %}{% block main %}{% for d in devices %}<tr id="{{ d.host }}">'
             '{% if d.serial == "SN002" %}{{ d.record.identity.nope }}{% endif %}{{ d.status }}: {{ d.message }}'
             '</tr>{% endfor %}{% endblock %}')
    out = tmp_path / "out"
    summary = _render(_records(5), out, _templates(tmp_path, index=index))
    problem = "the report could not show this device on index.html (UndefinedError: 'dict object' has no attribute " \
              "'nope')"
    assert summary["page_errors"] == {"r002": problem} and summary["not_ok"] == {"r002": f"error: {problem}"}
    html = (out / "index.html").read_text()
    assert '<tr id="r002">error: the report could not show this device on index.html' in html
    assert '<tr id="r003">ok: None</tr>' in html
    # fleet.json.gz keeps the record as it was read (written where its page was, before the fleet pages)
    assert json.loads(gzip.decompress((out / "fleet.json.gz").read_bytes()))["devices"]["r002"]["status"] == "ok"
    assert "r002,error,the report could not show this device on index.html" in (out / "devices.csv").read_text()


@pytest.mark.parametrize("index", [
    '{% extends "base.html" %}{% block main %}{{ no_such_variable }}{% endblock %}',   # with or without devices
    '{% extends "base.html" %}{% block main %}{% for d in devices %}{{ d.nope.x }}{% endfor %}{% endblock %}',
])
def test_a_broken_fleet_page_template_fails_the_report_and_keeps_the_previous_one(tmp_path, index):
    out = tmp_path / "out"
    out.mkdir()
    (out / "index.html").write_text("previous report")
    with pytest.raises(UndefinedError):
        _render(_records(3), out, _templates(tmp_path, index=index))
    assert [p.name for p in out.iterdir()] == ["index.html"] and (out / "index.html").read_text() == "previous report"


def test_records_of_any_shape_render(tmp_path):
    records = {"list": [1, 2], "text": "garbage", "none": None, "odd": {"status": "ok", "interfaces": "x",
                                                                        "identity": {"serial": {"a": 1}}},
               "set": {"status": "ok", "message": None, "extra": {1, 2}}}
    summary = _render(records, tmp_path / "out", [COLLECTION_TEMPLATES])
    assert summary["page_errors"] == {} and summary["statuses"]["missing"] == 1
    assert summary["not_ok"]["odd"].startswith("error: the device_info result for this host has an unexpected "
                                               "shape: identity.serial is a mapping, not a scalar; interfaces is a "
                                               "string, not a list")
    stored = json.loads(gzip.decompress((tmp_path / "out" / "fleet.json.gz").read_bytes()))["devices"]
    assert stored["set"]["extra"] == [1, 2] and stored["none"] is None


SCRIPT = textwrap.dedent("""
    import sys
    from pathlib import Path
    from ansible_collections.johann.monitor.plugins.module_utils._alerts import DEFAULT_THRESHOLDS
    from ansible_collections.johann.monitor.plugins.plugin_utils._report import render
    from ansible_collections.johann.monitor.plugins.plugin_utils._report.project import COLLECTION_TEMPLATES
    records = {f"r{n:03d}": {"host": f"r{n:03d}", "status": "ok"} for n in range(int(sys.argv[2]))}
    render.render_report(records, Path(sys.argv[1]), [Path(sys.argv[3]), COLLECTION_TEMPLATES],
                         "t", "2026-11-29T00:00:00Z")
""")


def _session_processes(session: int) -> list[int]:
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session:   # the process's session id
            found.append(int(entry.name))
    return found


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_report_stopped_while_forked_writers_work_leaves_nothing_and_no_process(tmp_path, signum):
    out = tmp_path / "out"
    out.mkdir()
    (out / "index.html").write_text("previous report")
    slow = _templates(tmp_path, device='{% extends "base.html" %}{% block main %}{% for i in range(300000) %}'
                                       '{% endfor %}{% endblock %}')[0]
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(out), str(pages.PARALLEL_FROM + 50), str(slow)],
                            env=dict(os.environ, PYTHONPATH=COLLECTIONS), start_new_session=True,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list(out.glob(".johann-staging-*/devices/*.html")):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[1][-2000:]
        time.sleep(0.01)
    assert len(_session_processes(proc.pid)) > 1   # the writers are at work
    proc.send_signal(signum)
    stderr = proc.communicate(timeout=60)[1]
    assert proc.returncode == -signum, stderr[-2000:]   # the default handlers then ended it (KeyboardInterrupt: too)
    assert [p.name for p in out.iterdir()] == ["index.html"] and (out / "index.html").read_text() == "previous report"
    assert _session_processes(proc.pid) == []


def test_stored_records_are_one_gzip_file_the_old_plain_one_goes_and_pages_share_their_assets(tmp_path):
    """fleet.json.gz replaces an earlier version's fleet.json (which would pass for this report's records);
    the CSS and script are files of the report (assets/), linked by every page, never inlined."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "fleet.json").write_text('{"schema": 1, "devices": {"old": null}}')
    _render(_records(3), out, [COLLECTION_TEMPLATES])
    assert not (out / "fleet.json").exists()
    stored = json.loads(gzip.decompress((out / "fleet.json.gz").read_bytes()))
    assert list(stored) == ["schema", "title", "generated_at", "seen", "devices"]   # devices last:
    text = gzip.decompress((out / "fleet.json.gz").read_bytes()).decode()   # a device per line, read one at a time
    assert text.splitlines()[0].endswith('"devices":{') and text.splitlines()[2].startswith('"r001":{')
    assert stored["title"] == "<t>" and list(stored["devices"]) == ["r000", "r001", "r002"]
    assert stored["devices"]["r001"]["identity"]["serial"] == "SN001"
    assert stored["seen"] == dict.fromkeys(["r000", "r001", "r002"], "2026-11-29T00:00:00Z")
    assert render.load_fleet_json(out)["devices"] == stored["devices"]
    templates = COLLECTION_TEMPLATES / "partials"
    assert (out / "assets/report.css").read_text() == (templates / "style.css").read_text()
    assert (out / "assets/report.js").read_text() == (templates / "report.js").read_text()
    for page, root in (("index.html", ""), ("stats.html", ""), ("devices/r001.html", "../")):
        html = (out / page).read_text()
        assert f'<link rel="stylesheet" href="{root}assets/report.css">' in html
        assert f'<script src="{root}assets/report.js"></script>' in html
        assert "<style>" not in html and "<script>" not in html


class _Held(dict):
    """A record that says when it is let go (a dict cannot be weakly referenced, a subclass can)."""


def test_records_are_read_where_they_are_rendered_and_never_held_all_at_once(tmp_path):
    """The renderer's memory is a constant plus the index: each record is read (records.Lazy) when its host is
    rendered and let go before the next one is read; the fleet pages see its long lists as their length."""
    import weakref

    from ansible_collections.johann.monitor.plugins.plugin_utils._report import records as recs
    from ansible_collections.johann.monitor.plugins.plugin_utils._report import shape
    alive: set[int] = set()
    peak = [0]

    def reader(host: str, number: int):
        def load() -> dict:
            record = _Held(_records(number + 1)[host], interfaces=[
                {"name": f"Gi0/{i}", "admin_status": "up", "oper_status": "up" if i % 3 else "down"}
                for i in range(30)], arp=[{"address": f"10.0.0.{i}"} for i in range(7)])
            alive.add(id(record))
            weakref.finalize(record, alive.discard, id(record))
            peak[0] = max(peak[0], len(alive))
            return shape.complete(record, host)
        return recs.Lazy(load)

    records = {f"r{n:03d}": reader(f"r{n:03d}", n) for n in range(60)}   # under PARALLEL_FROM: in this process
    stats = '{% extends "base.html" %}{% block main %}{% for d in devices %}<tr id="{{ d.host }}">{{ d.interfaces.up }}' \
            '/{{ d.record.interfaces | length }}/{{ d.record.arp | length }}</tr>{% endfor %}{% endblock %}'
    summary = render.render_report(records, tmp_path / "out", _templates(tmp_path, stats=stats),
                                   "t", "2026-11-29T00:00:00Z", completed=True)
    assert summary["devices"] == 60 and summary["statuses"]["ok"] == 60 and summary["page_errors"] == {}
    assert peak[0] == 1 and not alive   # one record at a time, none left
    assert '<tr id="r007">20/30/7</tr>' in (tmp_path / "out" / "stats.html").read_text()
    stored = json.loads(gzip.decompress((tmp_path / "out" / "fleet.json.gz").read_bytes()))
    assert len(stored["devices"]["r059"]["interfaces"]) == 30 and stored["devices"]["r059"]["arp"][6]["address"] \
        == "10.0.0.6"
    csv_rows = (tmp_path / "out" / "interfaces.csv").read_text().splitlines()
    assert len(csv_rows) == 1 + 60 * 30 and csv_rows[1].startswith("r000,Gi0/0,")


def test_a_fleet_page_that_iterates_a_long_list_of_a_record_says_why_it_cannot(tmp_path):
    stats = '{% extends "base.html" %}{% block main %}{% for d in devices %}{% for i in d.record.interfaces %}' \
            '{{ i.name }}{% endfor %}{% endfor %}{% endblock %}'
    records = {h: dict(r, interfaces=[{"name": "Gi0/1"}]) for h, r in _records(3).items()}
    with pytest.raises(TypeError, match=r"fleet pages .* hold only the number of entries .* use \| length here"):
        _render(records, tmp_path / "out", _templates(tmp_path, stats=stats))
