"""The automation dashboard in a real browser (Debian's Chromium) against the real service.

The history is written straight into the data folder's SQLite before the service starts
(the same `OutcomeStore.record` the engine calls when a job becomes final), so the test
knows every number the page must show without running the LLM.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from app.store.db import open_database
from app.store.migrations import upgrade
from app.store.outcomes import OutcomeStore
from app.store.policies import PolicyStore
from graphs.policy import Policy
from tests.fixtures.server import Server, running_server
from tests.web.conftest import sign_in

pytestmark = pytest.mark.timeout(180)

SCREENSHOT = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard.png"
NO_WARM_UP = {"JIMOKU_WARM_UP": "0"}  # nothing here runs a model

TODAY = datetime.now(UTC).date()
DAYS = [TODAY - timedelta(days=2), TODAY - timedelta(days=1), TODAY]
# Worded as the engine words it, with markup that must stay text.
PAUSE_REASON = f'audit of job {DAYS[2]}-4 was edited by test reviewer <img src=x onerror="window.__xss=1">'


def outcome(store: OutcomeStore, day: date, n: int, decision: str, *, waited_min: float = 0,
            audit: bool = False, flags: tuple[str, ...] = ()) -> None:
    """Record one final job the way the engine does, finished at 10:n on `day` after
    awaiting review for `waited_min` minutes (automatic approvals never await review)."""
    finished = datetime(day.year, day.month, day.day, 10, n, tzinfo=UTC)
    auto = decision == "auto_approve"
    doc: dict[str, Any] = {
        "id": f"{day}-{n}", "status": "rejected" if decision == "reject" else "approved",
        "confidence": 0.95 if auto or audit else 0.6,
        "flags": [{"kind": k} for k in flags],
        "routing": {"case_kind": "ocr", "route": "auto" if auto else "human", "audit": audit},
        "review": {"decision": decision, "reviewer": "policy" if auto else "test reviewer", "at": finished.isoformat()},
    }
    since = None if auto else (finished - timedelta(minutes=waited_min)).isoformat()
    store.record(doc, awaiting_since=since, finished_at=finished.isoformat())


def seed(data_dir: Path) -> None:
    """Day 1: 4 jobs, none automatic; day 2: 5 jobs, 2 automatic; day 3: 6 jobs, 3 automatic
    and 2 audits, one edited. Flags: conflict 4, unsupported_claim 2, low_confidence 1.
    The 10 reviews waited 0.5..65 min: the service's p50 is the 6th smallest (4 min), its
    p95 the largest (65 min)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    db = open_database(None, data_dir / "jimoku.db")
    upgrade(db)
    store = OutcomeStore(db)
    d1, d2, d3 = DAYS
    outcome(store, d1, 0, "approve", waited_min=1, flags=("conflict",))
    outcome(store, d1, 1, "approve", waited_min=0.5, flags=("conflict", "unsupported_claim"))
    outcome(store, d1, 2, "edit", waited_min=1.5, flags=("conflict",))
    outcome(store, d1, 3, "reject", waited_min=2, flags=("conflict", "unsupported_claim", "low_confidence"))
    outcome(store, d2, 0, "auto_approve")
    outcome(store, d2, 1, "approve", waited_min=3)
    outcome(store, d2, 2, "auto_approve")
    outcome(store, d2, 3, "edit", waited_min=4)
    outcome(store, d2, 4, "approve", waited_min=5)
    outcome(store, d3, 0, "auto_approve")
    outcome(store, d3, 1, "auto_approve")
    outcome(store, d3, 2, "approve", waited_min=10, audit=True)
    outcome(store, d3, 3, "auto_approve")
    outcome(store, d3, 4, "edit", waited_min=30, audit=True)
    outcome(store, d3, 5, "reject", waited_min=65)
    PolicyStore(db).put(
        Policy(auto_approve_min_confidence=0.9, audit_rate=0.1, always_review_tools=["asr"],
               paused_case_kinds={"ocr": PAUSE_REASON}),
        changed_by="system", reason=PAUSE_REASON)
    db.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("dashboard") / "data"
    seed(data_dir)
    with running_server(data_dir, extra_env=NO_WARM_UP) as server:
        yield server


def open_dashboard(page: Page, server: Server, key: str) -> None:
    """Sign in and wait for the first complete refresh (stats, policy and proposal answered)."""
    sign_in(page, key, f"{server.url}/dashboard")
    expect(page.locator("#status")).to_contain_text("updated")


def test_reviewer_sees_the_seeded_history_and_no_proposal(server: Server, page: Page) -> None:
    open_dashboard(page, server, server.keys["reviewer"])
    expect(page.locator("#who-role")).to_have_text("reviewer")

    # One bar per day, labelled with that day's share of jobs approved by rule.
    for day, jobs, auto, label in zip(DAYS, [4, 5, 6], [0, 2, 3], ["0%", "40%", "50%"], strict=True):
        bar = page.locator(f'#chart g[data-day="{day}"]')
        expect(bar).to_have_attribute("data-jobs", str(jobs))
        expect(bar).to_have_attribute("data-auto", str(auto))
        expect(bar.locator("text.ratio")).to_have_text(label)
        expect(bar.locator("text.jobs-label")).to_have_text(f"{auto}/{jobs} jobs")
    expect(page.locator("#chart rect.bar")).to_have_count(3)
    expect(page.locator("#automation-summary")).to_contain_text("5 of 15 decided jobs approved by rule (33%)")
    expect(page.locator("#automation-empty")).to_be_hidden()

    expect(page.locator("#audit-value")).to_have_text("50%")
    expect(page.locator("#audit-detail")).to_contain_text("1 of 2 audited drafts approved unchanged")
    expect(page.locator("#turnaround-p50")).to_have_text("4 min")
    expect(page.locator("#turnaround-p95")).to_have_text("1 h 5 min")
    expect(page.locator("#turnaround-detail")).to_contain_text("over 10 reviews")

    flags = page.locator("#flag-bars li")
    expect(flags).to_have_count(3)
    for i, (kind, count) in enumerate([("conflict", 4), ("unsupported_claim", 2), ("low_confidence", 1)]):
        expect(flags.nth(i).locator(".flag-kind")).to_have_text(kind)
        expect(flags.nth(i).locator(".flag-count")).to_have_text(str(count))
    # Bars are as long as their count, relative to the most frequent flag.
    widths = [flags.nth(i).locator(".flag-fill").bounding_box()["width"] for i in range(3)]  # type: ignore[index]
    assert widths[0] == pytest.approx(2 * widths[1], rel=0.05) == pytest.approx(4 * widths[2], rel=0.05)

    # The pause is a warning across the top, its reason shown as text (never run as HTML).
    paused = page.locator("#paused")
    expect(paused).to_be_visible()
    expect(paused).to_contain_text("Automation paused for 1 case kind")
    expect(paused.locator('li[data-kind="ocr"] .reason')).to_have_text(PAUSE_REASON)
    assert page.evaluate("window.__xss") is None
    expect(page.locator("#policy-version")).to_have_text("version 1")
    expect(page.locator("#policy-threshold")).to_have_text("≥ 0.90 confidence, with no flag")
    expect(page.locator("#policy-audit-rate")).to_contain_text("10%")
    expect(page.locator("#policy-list")).to_contain_text("asr")

    expect(page.locator("#proposal")).to_be_hidden()
    expect(page.locator('.nav a[href="/review"]')).to_be_visible()

    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)


def test_admin_sees_why_there_is_no_threshold_proposal(server: Server, page: Page) -> None:
    open_dashboard(page, server, server.keys["admin"])
    proposal = page.locator("#proposal")
    expect(proposal).to_be_visible()
    expect(proposal.locator("#proposal-reason")).to_have_text(
        "too little history: 10 reviewed drafts, need at least 30")


def test_empty_history_looks_intentional_and_the_review_page_links_here(page: Page, tmp_path: Path) -> None:
    # bound_decisions: no fixture policy, so the built-in default is what this fresh install shows.
    with running_server(tmp_path / "data", extra_env=NO_WARM_UP, bound_decisions=True) as empty:
        # Both pages are served the same way: same CSP and security headers.
        pages = [httpx.get(f"{empty.url}/{name}") for name in ("review", "dashboard")]
        headers = ("content-security-policy", "x-content-type-options", "referrer-policy", "cache-control")
        assert [r.status_code for r in pages] == [200, 200]
        assert {h: pages[1].headers[h] for h in headers} == {h: pages[0].headers[h] for h in headers}
        assert "script-src 'self';" in pages[1].headers["content-security-policy"]

        # Signed in on the review page, the same tab reaches the dashboard without a second sign-in.
        sign_in(page, empty.keys["reviewer"], f"{empty.url}/review")
        page.click('a[href="/dashboard"]')
        expect(page.locator("#status")).to_contain_text("updated")
        expect(page.locator("#who-name")).to_have_text("test reviewer")

        expect(page.locator("#automation-empty")).to_be_visible()
        expect(page.locator("#automation-empty")).to_contain_text("No decisions yet")
        expect(page.locator("#chart")).to_be_hidden()
        expect(page.locator("#audit-value")).to_have_text("—")
        expect(page.locator("#audit-detail")).to_contain_text("No audits yet")
        expect(page.locator("#turnaround-detail")).to_contain_text("No reviews yet")
        expect(page.locator("#flags-empty")).to_contain_text("No flags yet")
        expect(page.locator("#paused")).to_be_hidden()
        expect(page.locator("#policy-version")).to_have_text("built-in default")
        expect(page.locator("#policy-threshold")).to_contain_text("off — every draft goes to a person")
        page.screenshot(path=str(SCREENSHOT.with_name("dashboard-empty.png")), full_page=True)
