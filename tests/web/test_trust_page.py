"""The reviewer's page in Chromium under a two-person rule: "1 of 2" in the queue and on the job,
and a decision on a job that changed under the page (another reviewer's edit) refused, the job
reloaded and the reason shown. The scripted planner drafts; everything else is the real service."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.fixtures.images import render_nameplate
from tests.fixtures.server import Server, running_server, wait_for_status
from tests.fixtures.timed_planner import SCRIPTED_ENV
from tests.web.conftest import sign_in

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SCRIPTED = {**SCRIPTED_ENV, "JIMOKU_TEST_DRAFT": "The serial number is AX-4471-B [s1]."}
EDIT = "The serial number is AX-4471-C (second reviewer)."


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("trust-web") / "data", extra_env=SCRIPTED,
                        bound_decisions=True) as server:
        policy = {"two_person": [{"approvals": 2, "case_kinds": ["ocr"]}], "audit_rate": 0.0}
        assert server.client("admin").put("/v1/policy", json=policy).status_code == 200
        yield server


def awaiting(server: Server, plate: Path) -> str:
    response = server.client("submitter").post("/v1/jobs", data={"question": "What is the serial number?"},
                                               files=[("files", (plate.name, plate.read_bytes()))])
    assert response.status_code == 202, response.text
    return wait_for_status(server.client("reviewer"), response.json()["id"], {"awaiting_review"}, timeout=120)["id"]


def open_job(page: Page, job_id: str) -> None:
    page.click(f'#queue-list [data-job-id="{job_id}"]')
    expect(page.locator("#job-meta")).to_contain_text(job_id)


def test_one_of_two_then_a_second_reviewer_completes(server: Server, page: Page, tmp_path: Path) -> None:
    job_id = awaiting(server, render_nameplate(tmp_path / "p.png"))
    sign_in(page, server.keys["reviewer"], f"{server.url}/review#{job_id}")
    expect(page.locator("#job-meta")).to_contain_text("0 of 2 approvals")
    page.click("#btn-approve")
    expect(page.locator("#toast")).to_contain_text("1 of 2")
    item = page.locator(f'#queue-list [data-job-id="{job_id}"]')
    expect(item.locator(".badge.approvals")).to_have_text("1 of 2")
    expect(page.locator("#job-empty")).to_contain_text("waits for another reviewer")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "trust-one-of-two.png"))
    # The same reviewer cannot count twice: the page does not let them claim it again.
    open_job(page, job_id)
    expect(page.locator("#claim-note")).to_contain_text("already approved")
    expect(page.locator("#btn-approve")).to_be_disabled()

    second = page.context.browser.new_context(viewport={"width": 1366, "height": 768}).new_page()  # type: ignore[union-attr]
    sign_in(second, server.keys["reviewer2"], f"{server.url}/review#{job_id}")
    expect(second.locator("#job-meta")).to_contain_text("1 of 2 approvals")
    expect(second.locator("#job-meta")).to_contain_text("approved so far by test reviewer")
    second.click("#btn-approve")
    expect(second.locator("#toast")).to_contain_text("Approved job")
    doc = server.client("reviewer").get(f"/v1/jobs/{job_id}").json()
    assert doc["status"] == "approved" and len(doc["approvals"]) == 2
    second.context.close()


def test_a_job_changed_under_the_page_is_reloaded_with_the_reason(server: Server, page: Page, tmp_path: Path) -> None:
    job_id = awaiting(server, render_nameplate(tmp_path / "p.png"))
    sign_in(page, server.keys["reviewer"], f"{server.url}/review#{job_id}")
    draft = server.client("reviewer").get(f"/v1/jobs/{job_id}").json()["draft_answer"]
    expect(page.locator("#answer")).to_have_value(draft)
    # Meanwhile the claim is lifted and a second reviewer edits the answer through the API.
    assert server.client("admin").delete(f"/v1/reviews/{job_id}/claim").status_code == 204
    other = server.client("reviewer2")
    seen = other.get(f"/v1/jobs/{job_id}").json()
    edited = other.post(f"/v1/reviews/{job_id}", json={"decision": "edit", "answer": EDIT,
                                                       "fingerprint": seen["fingerprint"]})
    assert edited.status_code == 200, edited.text

    page.click("#btn-approve")  # bound to the draft this page shows: refused
    expect(page.locator("#claim-note")).to_contain_text("changed since you opened it")
    expect(page.locator("#answer")).to_have_value(EDIT)
    expect(page.locator("#job-meta")).to_contain_text("1 of 2 approvals")
    page.screenshot(path=str(ARTIFACTS / "trust-stale-reloaded.png"))
    assert server.client("reviewer").get(f"/v1/jobs/{job_id}").json()["status"] == "awaiting_review"

    page.click("#btn-approve")  # now the edit it shows: the second approval completes the job
    expect(page.locator("#toast")).to_contain_text("Approved job")
    done = wait_for_status(server.client("reviewer"), job_id, {"approved"}, timeout=60)
    assert done["final_answer"] == EDIT


def test_the_dashboard_shows_trust_per_case_kind(server: Server, page: Page) -> None:
    """After the two jobs above: both needed two people, one stale decision was refused."""
    policy = {"two_person": [{"approvals": 2, "case_kinds": ["ocr"]}], "audit_rate": 0.0,
              "detector_class_min_confidence": {"Fall": 0.8}, "ocr_line_min_confidence": 0.6}
    assert server.client("admin").put("/v1/policy", json=policy).status_code == 200
    sign_in(page, server.keys["admin"], f"{server.url}/dashboard")
    row = page.locator('#trust-table tr[data-kind="ocr"]')
    expect(row).to_contain_text("100%")  # two-person share
    cells = row.locator("td")
    expect(cells.nth(1)).to_have_text("2")
    expect(cells.nth(5)).to_have_text("1")  # the refused stale decision
    thresholds = page.locator("#threshold-table tbody tr")
    expect(thresholds).to_have_count(2)
    expect(thresholds.nth(0)).to_contain_text("Fall")
    expect(thresholds.nth(1)).to_contain_text("OCR line")
    expect(thresholds.nth(1).locator("td").nth(2)).to_have_text("2")  # both reviewed jobs had OCR lines
    page.locator("#trust").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "trust-dashboard.png"))
