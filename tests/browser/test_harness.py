"""Self-tests of the browser harness: it must catch what the report tests rely on it to catch."""

from __future__ import annotations

import asyncio
import select
import socket
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import harness
from tests.browser.harness import ARTIFACTS, ReportPage, is_local

BLOCKED = "net::ERR_BLOCKED_BY_CLIENT"

SORTABLE_TABLE = """
<input id="filter" placeholder="filter devices">
<table id="devices">
  <thead><tr><th data-key="0">Device</th><th data-key="1" data-numeric>Latency ms</th></tr></thead>
  <tbody>
    <tr><td>rtr-b</td><td>100</td></tr>
    <tr><td>rtr-a</td><td>9</td></tr>
    <tr><td>sw-c</td><td>10</td></tr>
  </tbody>
</table>
<script>
  const table = document.getElementById("devices");
  const body = table.tBodies[0];
  for (const th of table.tHead.rows[0].cells) {
    th.addEventListener("click", () => {
      const col = Number(th.dataset.key), numeric = "numeric" in th.dataset;
      const dir = th.dataset.dir === "asc" ? "desc" : "asc";
      th.dataset.dir = dir;
      const value = row => numeric ? Number(row.cells[col].textContent) : row.cells[col].textContent;
      const rows = Array.from(body.rows).sort((a, b) => {
        const x = value(a), y = value(b), order = x < y ? -1 : x > y ? 1 : 0;
        return dir === "asc" ? order : -order;
      });
      rows.forEach(row => body.appendChild(row));
    });
  }
  document.getElementById("filter").addEventListener("input", event => {
    for (const row of body.rows) row.hidden = !row.cells[0].textContent.includes(event.target.value);
  });
</script>
"""


def write_page(directory: Path, body: str, name: str = "page.html") -> Path:
    """A small self-contained HTML page in directory."""
    path = directory / name
    path.write_text(f'<!doctype html>\n<html><head><meta charset="utf-8"><title>t</title></head>\n'
                    f"<body>{body}</body></html>\n", encoding="utf-8")
    return path


@pytest.fixture
def loopback_server() -> Iterator[tuple[socket.socket, int]]:
    """A listening loopback socket that never accepts: a connection attempt leaves it readable."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    with server:
        yield server, server.getsockname()[1]


def connection_attempted(server: socket.socket) -> bool:
    """True when a client has connected to server (it is queued, waiting for accept)."""
    readable, _, _ = select.select([server], [], [], 0.3)
    return bool(readable)


def test_clean_page_records_nothing(report_page: ReportPage, tmp_path: Path) -> None:
    page_file = write_page(tmp_path, '<style>p{color:#123}</style><p id="msg">all quiet</p>'
                                     '<svg width="10" height="10"><rect width="10" height="10"/></svg>'
                                     '<img alt="dot" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">')
    page = report_page.open(page_file)
    assert page.text("#msg") == "all quiet"
    assert page.console_errors == []
    assert page.page_errors == []
    assert page.requests == [page_file.as_uri()]
    assert page.external_requests == []
    assert page.blocked == []
    page.assert_clean()


def test_console_error_is_recorded(report_page: ReportPage, tmp_path: Path) -> None:
    page = report_page.open(write_page(tmp_path, "<script>console.log('fine'); console.error('boom', 42)</script>"))
    assert page.console_errors == ["boom 42"]
    assert page.page_errors == []
    with pytest.raises(AssertionError, match="boom 42"):
        page.assert_clean()


def test_uncaught_exceptions_are_recorded(report_page: ReportPage, tmp_path: Path) -> None:
    page = report_page.open(write_page(tmp_path, "<script>throw new Error('kaput')</script>"
                                                 "<script>Promise.reject(new Error('later'))</script>"
                                                 "<script>window.__after = 'still runs'</script>"))
    page.wait_for("true")  # let the unhandled rejection be reported
    assert page.page_errors == ["kaput", "later"]
    assert page.console_errors == []
    assert page.evaluate("window.__after") == "still runs"
    with pytest.raises(AssertionError, match="kaput"):
        page.assert_clean()


def test_external_requests_are_recorded_and_blocked(report_page: ReportPage, tmp_path: Path) -> None:
    body = ('<img src="http://192.0.2.1/x.png">'
            "<script>fetch('https://example.invalid/').then(() => window.__fetch = 'loaded',"
            " error => window.__fetch = String(error))</script>")
    page = report_page.open(write_page(tmp_path, body))
    page.wait_for("window.__fetch")
    external = ["http://192.0.2.1/x.png", "https://example.invalid/"]
    assert sorted(page.external_requests) == external  # the image and the fetch race
    assert sorted(page.blocked) == external
    assert {url: page.failed_requests[url].split(".")[0] for url in external} == dict.fromkeys(external, BLOCKED)
    assert page.evaluate("window.__fetch") == "TypeError: Failed to fetch"
    with pytest.raises(AssertionError, match="192.0.2.1"):
        page.assert_clean()


def test_route_aborts_before_any_connection(report_page: ReportPage, tmp_path: Path,
                                            loopback_server: tuple[socket.socket, int]) -> None:
    server, port = loopback_server
    base = f"127.0.0.1:{port}"
    body = (f'<img src="http://{base}/x.png">'
            f"<script>fetch('http://{base}/f').catch(() => window.__fetch = 'failed');"
            f"const ws = new WebSocket('ws://{base}/ws'); ws.onclose = () => window.__ws = 'closed';</script>")
    page = report_page.open(write_page(tmp_path, body))
    page.wait_for("window.__fetch && window.__ws")
    assert sorted(page.external_requests) == [f"http://{base}/f", f"http://{base}/x.png", f"ws://{base}/ws"]
    assert sorted(failure.split(".")[0] for failure in page.failed_requests.values()) == [BLOCKED, BLOCKED]
    assert not connection_attempted(server)


def test_blackhole_proxy_stops_what_the_route_lets_through(report_page: ReportPage, tmp_path: Path,
                                                           loopback_server: tuple[socket.socket, int]) -> None:
    """Second layer: even with the route gone, the refusing proxy keeps every connection on the machine."""
    server, port = loopback_server
    report_page.run(lambda page: page.context.unroute_all())
    url = f"http://127.0.0.1:{port}/f"
    page = report_page.open(write_page(tmp_path, f"<script>fetch('{url}').catch(() => window.__fetch = 1)</script>"))
    page.wait_for("window.__fetch")
    assert page.failed_requests == {url: "net::ERR_PROXY_CONNECTION_FAILED"}
    assert page.blocked == []
    assert not connection_attempted(server)


@pytest.mark.parametrize(("body", "flag"), [
    ("<p id='t'>&lt;script&gt;window.__johann_xss=1&lt;/script&gt;</p>", None),
    ("<p id='t' title='&quot;&gt;&lt;script&gt;window.__johann_xss=1&lt;/script&gt;'>x</p>", None),
    ("<p id='t'><script>window.__johann_xss=1</script></p>", 1),
], ids=["escaped-text", "escaped-attribute", "unescaped"])
def test_xss_flag_is_set_only_by_unescaped_script(report_page: ReportPage, tmp_path: Path,
                                                  body: str, flag: int | None) -> None:
    page = report_page.open(write_page(tmp_path, body))
    assert page.evaluate("window.__johann_xss") == flag
    assert page.evaluate("document.querySelectorAll('script').length") == (0 if flag is None else 1)
    page.assert_clean()


def test_escaped_payload_shows_as_literal_text(report_page: ReportPage, tmp_path: Path) -> None:
    page = report_page.open(write_page(tmp_path, "<p id='t' title='&quot;&gt;&lt;b&gt;'>"
                                                 "&lt;script&gt;window.__johann_xss=1&lt;/script&gt;</p>"))
    assert page.text("#t") == "<script>window.__johann_xss=1</script>"
    assert page.evaluate("document.getElementById('t').title") == '"><b>'


def test_sortable_table_sorts_on_click_and_filters_on_typing(report_page: ReportPage, tmp_path: Path) -> None:
    page = report_page.open(write_page(tmp_path, SORTABLE_TABLE))
    assert page.table_headers("#devices") == ["Device", "Latency ms"]
    assert page.table_rows("#devices") == [["rtr-b", "100"], ["rtr-a", "9"], ["sw-c", "10"]]
    page.click("#devices th[data-key='1']")
    assert page.table_rows("#devices") == [["rtr-a", "9"], ["sw-c", "10"], ["rtr-b", "100"]]
    page.click("#devices th[data-key='1']")
    assert page.table_rows("#devices") == [["rtr-b", "100"], ["sw-c", "10"], ["rtr-a", "9"]]
    page.click("#devices th[data-key='0']")
    assert page.table_rows("#devices") == [["rtr-a", "9"], ["rtr-b", "100"], ["sw-c", "10"]]
    page.type("#filter", "rtr")
    assert page.table_rows("#devices") == [["rtr-a", "9"], ["rtr-b", "100"]]
    assert len(page.table_rows("#devices", visible_only=False)) == 3
    page.fill("#filter", "sw")
    assert page.table_rows("#devices") == [["sw-c", "10"]]
    page.assert_clean()


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (checks the signature too)."""
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def test_screenshot_is_a_full_page_png(report_page: ReportPage, tmp_path: Path) -> None:
    body = ('<h1 style="font:32px sans-serif">johann harness</h1>' + SORTABLE_TABLE
            + '<div style="height:1600px;background:linear-gradient(#fff,#36c)"></div>')
    page = report_page.open(write_page(tmp_path, body))
    path = page.screenshot("harness-selftest")
    assert path == ARTIFACTS / "harness-selftest.png"
    width, height = png_size(path)
    assert width == 1280
    assert height > 1600  # the whole page, not just the 800-pixel viewport
    assert 5_000 < path.stat().st_size < 5_000_000


def test_asyncio_runs_beside_the_browser(report_page: ReportPage, tmp_path: Path) -> None:
    """Playwright's sync API lives on its own thread: the test thread can still asyncio.run()."""
    page = report_page.open(write_page(tmp_path, "<p id='t'>x</p>"))

    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    assert asyncio.run(answer()) == 42
    assert page.text("#t") == "x"
    assert page.run(lambda raw: raw.title()) == "t"


def test_refuses_what_it_must(report_page: ReportPage) -> None:
    with pytest.raises(ValueError, match="file://"):
        report_page.open("http://192.0.2.1/")
    with pytest.raises(ValueError, match="plain file name"):
        report_page.screenshot("../escape")
    assert report_page.requests == []


@pytest.mark.parametrize(("url", "local"), [
    ("file:///tmp/r.html", True), ("data:image/png;base64,AA==", True), ("blob:null/1234", True),
    ("about:blank", True), ("FILE:///x", True), ("http://192.0.2.1/x.png", False),
    ("https://example.invalid/", False), ("ws://127.0.0.1/ws", False), ("//example.org/x", False),
])
def test_is_local(url: str, local: bool) -> None:
    assert is_local(url) is local


def test_missing_chromium_is_a_clear_failure_reason(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert harness.missing_requirements() is None
    monkeypatch.setattr(harness, "CHROMIUM", tmp_path / "chromium")
    assert harness.missing_requirements() == f"{tmp_path / 'chromium'} is missing: run `make browser-deps` (apt-get install chromium)"
