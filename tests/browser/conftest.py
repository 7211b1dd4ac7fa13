"""Browser fixtures for the report tests: one headless Chromium per session, a fresh page per test.

    def test_report(report_page, tmp_path):
        page = report_page.open(render_report(tmp_path))   # a Path or a file:// URL
        page.assert_clean()
        assert page.evaluate("window.__johann_xss") is None

See tests/browser/harness.py (ReportPage) for what the page records and offers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from tests.browser import harness


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[harness.Chromium]:
    """Debian's /usr/bin/chromium, headless, driven by Playwright on its own thread; fails (never skips) if missing."""
    problem = harness.missing_requirements()
    if problem:
        pytest.fail(f"browser tests cannot run: {problem}", pytrace=False)
    with harness.running_chromium() as chromium:
        yield chromium


@pytest.fixture
def report_page(chromium_browser: harness.Chromium) -> Iterator[harness.ReportPage]:
    """A ReportPage in a fresh browser context: records errors and requests, blocks the network."""
    with harness.report_page(chromium_browser) as page:
        yield page
    assert not _asyncio_loop_running(), (
        "a Playwright object was used on the test thread: it now looks like a running asyncio loop "
        "and breaks later asyncio.run() calls; use report_page.run(lambda page: ...) instead")


def _asyncio_loop_running() -> bool:
    """True if asyncio thinks a loop runs in this thread (what a sync Playwright call leaves behind)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
