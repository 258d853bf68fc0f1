"""The generated Allure report, looked at in headless Chromium (Debian's, driven by Playwright).

Both forms are opened as a reader would: the folder report served over HTTP on 127.0.0.1
(browsers refuse its data fetches from file://), and the single file from disk. Each must
show the run's totals on its overview and a claim's evidence on that test's page, log no
page error, and fetch nothing from anywhere but itself. Screenshots are kept under
``reports/browser-check/`` as the artifact a reviewer looks at.
"""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from fixtures.reporting.allure_html import report_id
from selftests.conftest import PROJECT

pytestmark = pytest.mark.browser

SCREENSHOTS = PROJECT / "reports" / "browser-check"
CHECKS = ("suites/secure/test_default_isolation_findings.py::test_system_calls_are_filtered_by_default",
          "suites/secure/test_default_isolation_findings.py::test_api_socket_is_not_open_to_everyone",
          "suites/host/test_storage.py", "--profile", "audit")
EVIDENCE_TEST = "test_api_socket_is_not_open_to_everyone[SEC-4]"
EVIDENCE_NAME = "socket-permissions setting"
# The awesome report always asks for this optional widget; it exists only when metrics do.
OPTIONAL_FETCHES = ("/widgets/metrics.json",)
RENDER_TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def report(suite):
    run = suite(*CHECKS, html=True)
    assert run.summary and (run.reports / "report.html").is_file(), run.describe()
    return run


@pytest.fixture(scope="module")
def results(report) -> list[dict]:
    return [json.loads(p.read_text()) for p in (report.reports / "allure-results").glob("*-result.json")]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def served(report):
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(report.reports / "html")))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Browser:
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is not installed (tools/setup selftest installs it)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield launched
        launched.close()


@dataclass
class Opened:
    """One form of the report in a browser page, with everything that went wrong while reading it."""
    form: str
    url: str
    page: Page
    origin: str
    problems: list[str] = field(default_factory=list)

    def watch(self) -> None:
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on("console", lambda message: self.problems.append(f"console error: {message.text}")
                     if message.type == "error" and not self._optional(message.location.get("url", "")) else None)
        self.page.on("request", self._request)
        self.page.on("requestfailed", lambda request: None if self._optional(request.url) else
                     self.problems.append(f"request failed: {request.url} ({request.failure})"))
        self.page.on("response", lambda response: None if response.status < 400 or self._optional(response.url)
                     else self.problems.append(f"HTTP {response.status}: {response.url}"))

    def _optional(self, url: str) -> bool:
        return any(part in url for part in OPTIONAL_FETCHES)

    def _request(self, request) -> None:
        if not request.url.startswith((self.origin, "data:", "blob:")):
            self.problems.append(f"fetched from outside the report: {request.url}")

    def go(self, fragment: str = "") -> None:
        self.page.goto(f"{self.url}#{fragment}" if fragment else self.url)

    def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.form}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture(params=["folder", "single-file"])
def opened(request, report, served, browser) -> Opened:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    if request.param == "folder":
        url, origin = served, served.rsplit("/", 1)[0]
    else:
        url = (report.reports / "report.html").as_uri()
        origin = url
    view = Opened(request.param, url, context.new_page(), origin)
    view.watch()
    yield view
    context.close()


def _value(page: Page, testid: str) -> int:
    item = page.locator(f"[data-testid={testid}] [data-testid=metadata-value]")
    return int(item.first.inner_text().strip()) if item.count() else 0


def test_overview_shows_the_runs_totals(opened, results):
    expected = Counter(r["status"] for r in results)
    opened.go()
    opened.page.wait_for_selector("[data-testid=metadata-item-total]", timeout=RENDER_TIMEOUT_MS)
    opened.shot("overview")
    shown = {status: _value(opened.page, f"metadata-item-{status}")
             for status in ("total", "passed", "failed", "broken", "skipped")}
    assert shown == {"total": len(results), **{s: expected.get(s, 0) for s in ("passed", "failed", "broken", "skipped")}}
    assert "docker-conformance" in opened.page.locator("[data-testid=report-title]").inner_text()
    assert "Host requirements" in opened.page.locator("[data-testid=tree-section-title]").all_inner_texts(), \
        "the tree is not grouped by chapter (feature)"
    assert not opened.problems, opened.problems


def test_claim_page_shows_its_evidence_attachment(opened, results):
    result = next(r for r in results if r["name"] == EVIDENCE_TEST)
    opened.go(f"/{report_id(result['uuid'])}")
    title = opened.page.wait_for_selector("[data-testid=test-result-info-title]", timeout=RENDER_TIMEOUT_MS)
    assert "SEC-4" in title.inner_text()
    opened.page.locator("[data-testid=test-result-tab-attachments]").click()
    header = opened.page.locator("[data-testid=test-result-attachment-header]", has_text=EVIDENCE_NAME)
    header.first.wait_for(timeout=RENDER_TIMEOUT_MS)
    header.first.click()  # opens the attachment so the screenshot shows the evidence itself
    opened.page.get_by_text('"who can connect"').first.wait_for(timeout=RENDER_TIMEOUT_MS)
    opened.shot("claim-evidence")
    assert not opened.problems, opened.problems


def test_the_watch_catches_page_errors_and_outside_fetches(browser, tmp_path):
    """The check can fail: a page that throws and loads a script from elsewhere is caught."""
    page_file = tmp_path / "bad.html"
    page_file.write_text('<html><body><script src="https://analytics.invalid/tag.js"></script>'
                         '<script>throw new Error("boom")</script></body></html>')
    context = browser.new_context()
    try:
        view = Opened("negative", page_file.as_uri(), context.new_page(), page_file.as_uri())
        view.watch()
        view.go()
        view.page.wait_for_load_state("load")
        assert "page error: boom" in view.problems, view.problems
        assert any(p.startswith("fetched from outside the report: https://analytics.invalid/") for p in view.problems)
    finally:
        context.close()
