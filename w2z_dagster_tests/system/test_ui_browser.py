"""The operator's path through the Dagster UI in a real browser (Debian's Chromium, headless).

Materialize one collection from the asset group, see the run succeed, and read the verification summary
in the catalog. A screenshot of every step goes to `test-artifacts/browser/` for review.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect, sync_playwright

if TYPE_CHECKING:
    from w2z_dagster_tests.support.stack import Stack

pytestmark = [pytest.mark.browser, pytest.mark.dagster_dev]


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
COLLECTION = "DemoAuthor"
RUN_SECONDS = 120
UI_TIMEOUT_MS = 30_000
FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}

RUN_STATUS = """
query Run($id: ID!) {
  runOrError(runId: $id) { __typename ... on Run { status } }
}
"""


@pytest.fixture
def page(dagster_stack: Stack) -> Iterator[Page]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: install Debian's `chromium` package (`bash .ci/system-deps`)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(UI_TIMEOUT_MS)
            expect.set_options(timeout=UI_TIMEOUT_MS)
            yield page
        finally:
            browser.close()


class Screenshots:
    """Numbered so the files sort in the order the steps were taken."""

    def __init__(self, page: Page) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page = page
        self.taken = 0

    def __call__(self, step: str) -> None:
        self.taken += 1
        self.page.screenshot(path=ARTIFACTS / f"{self.taken:02d}-{step}.png", full_page=True)


def _run_status(stack: Stack, run_id: str) -> str | None:
    run = stack.graphql(RUN_STATUS, {"id": run_id})["runOrError"]
    return run["status"] if run.get("status") in FINISHED else None


def test_materialize_a_collection_in_the_ui_and_read_its_verification(
    dagster_stack: Stack, page: Page
) -> None:
    stack = dagster_stack
    shot = Screenshots(page)
    stack.graphql("mutation { setNuxSeen }")  # the welcome dialog, dismissed as on any used instance
    with stack.weaviate.connect() as client:
        source_count = client.collections.get(COLLECTION).aggregate.over_all(total_count=True).total_count

    page.goto(f"{stack.ui_url}/locations/w2z_dagster/asset-groups/migration")
    expect(page.get_by_text("verification_report").first).to_be_visible()
    shot("asset-group")

    page.get_by_role("button", name="Materialize all").click()
    page.get_by_text("Select a partition or create one").click()
    page.keyboard.type(COLLECTION)
    page.get_by_role("menuitem", name=re.compile(f"^{COLLECTION}")).click()
    page.keyboard.press("Escape")
    launch = page.get_by_role("button", name="Launch 1 run")
    expect(launch).to_be_enabled()
    shot("partition-chosen")

    launch.click()
    expect(page.get_by_text(re.compile(r"Launched run [0-9a-f]{8}"))).to_be_visible()
    shot("run-launched")

    page.get_by_text("View", exact=True).click()
    page.wait_for_url(re.compile(r"/runs/[0-9a-f-]{36}"))
    run_id = re.search(r"/runs/([0-9a-f-]{36})", page.url).group(1)
    assert stack.poll(f"run {run_id} to finish", lambda: _run_status(stack, run_id), RUN_SECONDS) == "SUCCESS"
    expect(page.get_by_text("Success", exact=True).first).to_be_visible()
    shot("run-succeeded")

    page.goto(f"{stack.ui_url}/assets/verification_report?view=events&partition={COLLECTION}")
    summary = page.locator("table:has(> thead th:text-is('numbers'))")
    page.wait_for_load_state("networkidle")
    shot("verification-events")
    expect(summary).to_have_count(1)
    summary.scroll_into_view_if_needed()
    shot("verification-summary")

    assert summary.locator("th").all_inner_texts() == ["check", "result", "numbers"]
    rows = [row.locator("td").all_inner_texts() for row in summary.locator("tbody tr").all()]
    assert rows and all("PASS" in result for _, result, _ in rows), rows
    counts = next(numbers for check, _, numbers in rows if check == "counts")
    assert counts.count(str(source_count)) == 2, counts
