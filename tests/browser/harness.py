"""Headless Chromium harness for the static HTML reports (opened from file://).

The reports are self-contained: nothing on a report page may reach the network.
`ReportPage` wraps one Playwright page and records what a test needs to prove it:
console errors, uncaught exceptions, and every request the page makes. Requests
that are not local (file:, data:, blob:, about:) are recorded and aborted by a
route before Chromium opens any connection.

A second layer stops what no route sees (Chromium's own background traffic,
<link rel=preconnect>, ...): the browser's proxy is a loopback port that is bound
but never listens, so every proxied connection is refused on this machine.
Playwright also sends loopback through that proxy (it adds <-loopback>).

Playwright's sync API marks an asyncio loop as running in the thread that uses it,
for as long as it lives: asyncio.run() then fails there. So the whole browser lives
on a thread of its own (BrowserThread), and the test thread stays free for asyncio.
Raw Playwright objects may only be used on that thread: ReportPage.run().
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from playwright.sync_api import (
        Browser,
        BrowserContext,
        ConsoleMessage,
        Page,
        Playwright,
        Request,
        Route,
        WebSocketRoute,
    )
    from playwright.sync_api import Error as PlaywrightError

T = TypeVar("T")
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
# Playwright gives each launch a fresh, temporary --user-data-dir of its own.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
)
LOCAL_SCHEMES = frozenset({"file", "data", "blob", "about"})
BLOCKED_ERROR = "blockedbyclient"  # the page sees net::ERR_BLOCKED_BY_CLIENT
DEFAULT_TIMEOUT_MS = 10_000
VIEWPORT = {"width": 1280, "height": 800}
_ARTIFACT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_ROWS_JS = """(table, visibleOnly) => Array.from(table.tBodies)
    .flatMap(body => Array.from(body.rows))
    .filter(row => !visibleOnly || row.getClientRects().length > 0)
    .map(row => Array.from(row.cells, cell => cell.innerText.trim()))"""
_HEADERS_JS = """table => table.tHead && table.tHead.rows.length
    ? Array.from(table.tHead.rows[0].cells, cell => cell.innerText.trim()) : []"""


def is_local(url: str) -> bool:
    """True for URLs that never leave the machine (file:, data:, blob:, about:)."""
    return url.split(":", 1)[0].lower() in LOCAL_SCHEMES


def missing_requirements() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if find_spec("playwright") is None:
        return "the Python package playwright is missing: run `make venv` (requirements-dev.txt)"
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is missing: run `make browser-deps` (apt-get install chromium)"
    return None


def blackhole_port() -> tuple[socket.socket, int]:
    """A loopback TCP port that is bound but not listening: connections to it are refused.

    Keep the socket open as long as the browser runs, so no one else can take the port.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock, sock.getsockname()[1]


def launch(playwright: Playwright, proxy_port: int) -> Browser:
    """Start Debian's headless Chromium, its proxy pointed at the refusing loopback port."""
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        headless=True,
        args=list(CHROMIUM_ARGS),
        proxy={"server": f"http://127.0.0.1:{proxy_port}"},
    )


class BrowserThread:
    """One worker thread that runs every Playwright call, in order."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chromium")

    def call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run function on the browser thread and return its result (or raise its error)."""
        return self._executor.submit(function, *args, **kwargs).result()

    def close(self) -> None:
        """Let the thread finish its queue and end."""
        self._executor.shutdown(wait=True)


@dataclass(frozen=True)
class Chromium:
    """The session's browser and the thread that drives it."""

    thread: BrowserThread
    browser: Browser


def _start_playwright() -> Playwright:
    from playwright.sync_api import sync_playwright

    return sync_playwright().start()


@contextmanager
def running_chromium() -> Iterator[Chromium]:
    """Start Playwright and Chromium on a thread of their own; stop both on the way out."""
    thread = BrowserThread()
    blackhole, port = blackhole_port()
    try:
        playwright = thread.call(_start_playwright)
        try:
            browser = thread.call(launch, playwright, port)
            yield Chromium(thread, browser)
            thread.call(browser.close)
        finally:
            thread.call(playwright.stop)
    finally:
        thread.close()
        blackhole.close()


@dataclass
class ReportPage:
    """One browser page plus what it did: errors, requests, blocked traffic.

    Every method runs on the browser thread; use run() for anything else Playwright offers.
    """

    page: Page
    thread: BrowserThread
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    failed_requests: dict[str, str] = field(default_factory=dict)
    blocked: list[str] = field(default_factory=list)
    websockets: list[str] = field(default_factory=list)

    @property
    def external_requests(self) -> list[str]:
        """URLs of every request (WebSockets included) that was not file:, data:, blob: or about:."""
        return [url for url in self.requests + self.websockets if not is_local(url)]

    def open(self, target: Path | str) -> ReportPage:
        """Load a local file (a Path, or a file:// URL) and wait for its load event."""
        url = Path(target).resolve().as_uri() if isinstance(target, Path) else target
        if not url.startswith("file:"):
            raise ValueError(f"the report harness opens file:// pages only, not {url!r}")
        self.thread.call(self.page.goto, url, wait_until="load")
        return self

    def evaluate(self, expression: str, arg: Any = None) -> Any:
        """The value of a JS expression or function in the page (undefined -> None)."""
        return self.thread.call(self.page.evaluate, expression, arg)

    def wait_for(self, expression: str) -> None:
        """Wait until a JS expression is truthy in the page."""
        self.thread.call(self.page.wait_for_function, expression)

    def click(self, selector: str) -> None:
        """Click the one element matching selector."""
        self.thread.call(lambda: self.page.locator(selector).click())

    def type(self, selector: str, text: str) -> None:
        """Type text key by key into the element (input/keydown events fire for each key)."""
        self.thread.call(lambda: self.page.locator(selector).press_sequentially(text))

    def fill(self, selector: str, text: str) -> None:
        """Replace the element's value with text at once (one input event)."""
        self.thread.call(lambda: self.page.locator(selector).fill(text))

    def text(self, selector: str) -> str:
        """The rendered text (innerText) of the one element matching selector."""
        return self.thread.call(lambda: self.page.locator(selector).inner_text())

    def table_rows(self, selector: str = "table", visible_only: bool = True) -> list[list[str]]:
        """Body rows of the table as lists of cell texts; hidden rows are left out unless asked."""
        return self.thread.call(lambda: self.page.locator(selector).evaluate(_ROWS_JS, visible_only))

    def table_headers(self, selector: str = "table") -> list[str]:
        """Cell texts of the table's first header row (thead), or [] when it has none."""
        return self.thread.call(lambda: self.page.locator(selector).evaluate(_HEADERS_JS))

    def run(self, action: Callable[[Page], T]) -> T:
        """Run action(page) on the browser thread: the way to any other Playwright call."""
        return self.thread.call(action, self.page)

    def screenshot(self, name: str) -> Path:
        """Save a full-page PNG to tests/artifacts/<name>.png and return its path."""
        if not _ARTIFACT_NAME.fullmatch(name):
            raise ValueError(f"artifact name must be a plain file name, not {name!r}")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.thread.call(self.page.screenshot, path=str(path), full_page=True, animations="disabled")
        return path

    def assert_clean(self) -> None:
        """Fail unless the page logged no error, threw nothing and asked for nothing external."""
        problems = {
            "console errors": self.console_errors,
            "uncaught exceptions": self.page_errors,
            "external requests": self.external_requests,
        }
        found = {kind: items for kind, items in problems.items() if items}
        assert not found, f"the page is not clean: {found}"

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def _on_page_error(self, error: PlaywrightError) -> None:
        self.page_errors.append(error.message)

    def _on_request_failed(self, request: Request) -> None:
        self.failed_requests[request.url] = request.failure or ""

    def _route(self, route: Route) -> None:
        url = route.request.url
        if is_local(url):
            route.continue_()
            return
        self.blocked.append(url)
        route.abort(BLOCKED_ERROR)

    def _route_websocket(self, websocket: WebSocketRoute) -> None:
        self.websockets.append(websocket.url)
        self.blocked.append(websocket.url)
        websocket.close()  # never connect_to_server(): no socket is opened


def _new_context(browser: Browser) -> BrowserContext:
    context = browser.new_context(viewport=VIEWPORT, service_workers="block")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    return context


def _attach(wrapper: ReportPage, context: BrowserContext) -> None:
    """Route and record before the page loads anything."""
    context.route("**/*", wrapper._route)
    context.route_web_socket(re.compile(r".*"), wrapper._route_websocket)
    context.on("request", lambda request: wrapper.requests.append(request.url))
    context.on("requestfailed", wrapper._on_request_failed)
    wrapper.page.on("console", wrapper._on_console)
    wrapper.page.on("pageerror", wrapper._on_page_error)


@contextmanager
def report_page(chromium: Chromium) -> Iterator[ReportPage]:
    """A fresh context and page (still about:blank) with every recorder and blocker attached."""
    context = chromium.thread.call(_new_context, chromium.browser)
    try:
        wrapper = ReportPage(chromium.thread.call(context.new_page), chromium.thread)
        chromium.thread.call(_attach, wrapper, context)
        yield wrapper
    finally:
        chromium.thread.call(context.close)
