"""The web pages in English and Japanese, and the stable error codes the pages translate.

- The catalogues (app/web/static/locales/*.json) have the same keys and placeholders, and every
  `t("…")` key the scripts use is in both.
- Every error answer of the real service carries a stable `code` (app/api/errors.py) next to
  its English reason.
- In Chromium against the real service: a browser asking for Japanese gets the Japanese page
  (chrome, a translated flag name, the confidence explanation, locale dates and durations); an
  English browser gets English; the language switch changes the language and is remembered across
  reloads and pages; a real API error is shown translated from its code. A served job document
  fills the review page (as in test_evidence_by_capability) and screenshots of both pages are
  written to test-artifacts/ in both languages.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, expect

from app.api.errors import RULES, STATUS_CODES, error_code
from app.errors import Conflict, JobRejected
from app.web.routes import preferred_language
from tests.fixtures.images import render_nameplate
from tests.fixtures.server import Server, running_server
from tests.web.conftest import sign_in
from tests.web.test_evidence_by_capability import JOB, QUEUE, bus_photo

STATIC = Path(__file__).resolve().parents[2] / "app" / "web" / "static"
LOCALES = STATIC / "locales"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PLURAL_FORMS = {"zero", "one", "two", "few", "many", "other"}

FLAG_MESSAGE: str = json.loads(json.dumps(JOB))["flags"][0]["message"]
EXPLAINED = "0.62 = evidence 0.73 (geometric mean of s1, s3, s4) × 0.85 (low_confidence)"


# ---------------------------------------------------------------- catalogues


def flatten(node: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Dotted key → string, or → dict of plural forms."""
    out: dict[str, Any] = {}
    for key, value in node.items():
        if isinstance(value, dict) and not set(value) <= PLURAL_FORMS:
            out |= flatten(value, f"{prefix}{key}.")
        else:
            out[f"{prefix}{key}"] = value
    return out


def catalogue(lang: str) -> dict[str, Any]:
    return flatten(json.loads((LOCALES / f"{lang}.json").read_text(encoding="utf-8")))


def placeholders(value: Any) -> set[str]:
    texts = value.values() if isinstance(value, dict) else [value]
    return {name for text in texts for name in re.findall(r"\{(\w+)\}", text)}


def test_both_catalogues_have_the_same_keys_and_placeholders() -> None:
    en, ja = catalogue("en"), catalogue("ja")
    assert sorted(set(en) ^ set(ja)) == []
    differing = {k: (placeholders(en[k]), placeholders(ja[k])) for k in en if placeholders(en[k]) != placeholders(ja[k])}
    assert differing == {}
    assert all((isinstance(v, str) and v.strip()) or isinstance(v, dict) or k.endswith(("join", "paused_note_end"))
               for k, v in ja.items()), "a Japanese string is empty"


def test_every_key_the_scripts_use_is_in_both_catalogues() -> None:
    en, ja = catalogue("en"), catalogue("ja")
    used: dict[str, str] = {}
    for path in sorted(STATIC.rglob("*")):
        if path.suffix not in (".js", ".html") or path.name == "i18n.js":  # i18n.js defines t(), uses no key
            continue
        text = path.read_text(encoding="utf-8")
        pattern = r"""\bt\(\s*["']([\w.]+)["']|data-i18n(?:-[\w-]+)?="([\w.]+)"|tOr\(\s*"(\w+)",\s*"(\w+)\""""
        for m in re.finditer(pattern, text):
            key = m.group(1) or m.group(2) or f"{m.group(3)}.{m.group(4)}"
            used[key] = path.name
    assert len(used) > 150, "the scripts hardly use the catalogues"
    # Keys the scripts build from a value (t(`steps.state_${status}`) and the like).
    for family, values in {"shell.brand_": ["review", "dashboard"], "steps.state_": ["ok", "failed", "pending"],
                           "evidence.ocr_": ["off", "lines", "words"], "files.kind_": ["image", "audio", "document"],
                           "status.": ["queued", "running", "awaiting_review", "approved", "rejected", "failed"],
                           "decisions.": ["approve", "edit", "reject", "auto_approve"], "shell.role_": ["reviewer", "admin"],
                           "units.": ["day", "hour", "minute", "second", "millisecond", "join"]}.items():
        used |= {f"{family}{v}": "built from a value" for v in values}
    used |= {"review.title": "shell.js", "dashboard.title": "shell.js"}
    missing = {k: where for k, where in used.items() if k not in en or k not in ja}
    assert missing == {}


def test_every_flag_kind_has_a_name_and_a_meaning_in_both() -> None:
    from graphs.contract import FLAG_KINDS

    for lang in ("en", "ja"):
        cat = catalogue(lang)
        assert {k for k in FLAG_KINDS if f"flags.{k}" in cat and f"flag_help.{k}" in cat} == set(FLAG_KINDS), lang
    ja = catalogue("ja")
    assert all(ja[f"flags.{k}"] != k for k in FLAG_KINDS), "a Japanese flag name is the untranslated code"


def test_every_error_code_is_translated() -> None:
    codes = set(STATUS_CODES.values()) | {code for _, _, code in RULES} | {"invalid_decision"}
    # Codes raise sites give explicitly (`raise Conflict("…", code="stale_fingerprint")`).
    app_dir = Path(__file__).resolve().parents[2] / "app"
    codes |= {m for path in app_dir.rglob("*.py") for m in re.findall(r"""\bcode=["'](\w+)["']""", path.read_text())}
    assert "stale_fingerprint" in codes or len(codes) > 25
    for lang in ("en", "ja"):
        cat = catalogue(lang)
        assert sorted(c for c in codes if f"errors.{c}" not in cat) == [], lang


# ---------------------------------------------------------------- error codes and the language tag


@pytest.mark.parametrize(("header", "lang"), [
    ("ja-JP,ja;q=0.9,en;q=0.8", "ja"), ("en-US,en;q=0.9,ja;q=0.8", "en"), (None, "en"),
    ("fr-FR, ja;q=0.5", "ja"), ("de, fr", "en"), ("ja;q=0.2, en;q=0.5", "en"), ("ja;q=bogus, en", "en"),
])
def test_the_language_tag_follows_accept_language(header: str | None, lang: str) -> None:
    assert preferred_language(header) == lang


def routed(status: int, detail: str, cause: Exception | None = None) -> str:
    """The code of an HTTPException a route raised (`from None` after catching `cause`)."""
    from fastapi import HTTPException

    try:
        try:
            if cause is not None:
                raise cause
            raise HTTPException(status, detail)
        except (Conflict, JobRejected):
            raise HTTPException(status, detail) from None
    except HTTPException as exc:
        return error_code(exc.status_code, exc.detail, exc)


def test_codes_come_from_the_raise_sites_wording_or_the_exceptions_own_code() -> None:
    # The store's own messages (app/store/jobs.py, keys.py), re-raised by the routes as 409s.
    assert routed(409, "job j1 is approved, not awaiting review", Conflict("x")) == "not_awaiting_review"
    assert routed(409, "job j1 is claimed by alice until 10:00", Conflict("x")) == "claimed_by_other"
    assert routed(409, "job j1 has already been decided", Conflict("x")) == "already_decided"
    assert routed(409, "this key already holds 5 open review claims (the limit)", Conflict("x")) == "claim_limit"
    assert routed(409, "key k1 is the last active admin key", Conflict("x")) == "last_admin_key"
    assert routed(409, "lost a race", Conflict("x")) == "conflict"
    # An explicit code on the exception wins over the wording.
    assert routed(409, "job j1 is claimed by alice", Conflict("x", code="stale")) == "stale"
    assert routed(422, "answer is empty", JobRejected("x")) == "invalid_decision"
    assert routed(413, "file 'a.png' is over the 25 MB limit") == "file_too_large"
    assert routed(413, "a form field is over the 64 kB limit") == "payload_too_large"
    assert routed(400, "file 'a.png' is empty") == "empty_file"
    assert routed(400, "too many files attached; the limit is 8") == "too_many_files"
    assert routed(404, "no tool 'ocrx'; known: ocr, asr") == "tool_not_found"
    assert routed(507, "the server's disk is full") == "disk_full"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The real service; no model runs (the review page is filled from a served document)."""
    with running_server(tmp_path_factory.mktemp("i18n") / "data", extra_env={"JIMOKU_WARM_UP": "0"}) as server:
        yield server


def test_error_answers_of_the_real_service_carry_their_code(server: Server) -> None:
    anonymous = httpx.Client(base_url=server.url, timeout=30)
    reviewer, submitter = server.client("reviewer"), server.client("submitter")

    def answer(response: httpx.Response, status: int, code: str) -> None:
        assert response.status_code == status, response.text
        body = response.json()
        assert body["code"] == code and body["detail"], body

    answer(anonymous.get("/v1/jobs/nope"), 401, "key_missing")
    answer(anonymous.get("/v1/jobs/nope", headers={"Authorization": "Bearer nope"}), 401, "key_invalid")
    answer(submitter.get("/v1/reviews"), 403, "forbidden")
    answer(reviewer.get("/v1/jobs/nope"), 404, "job_not_found")
    answer(reviewer.post("/v1/reviews/nope/claim"), 404, "job_not_found")
    answer(reviewer.post("/v1/reviews/nope", json={"decision": "approve"}), 404, "job_not_found")
    answer(reviewer.post("/v1/reviews/nope", json={"decision": "maybe"}), 422, "invalid_request")
    answer(reviewer.get("/v1/artifacts/" + "0" * 64), 404, "artifact_not_found")
    answer(reviewer.get("/v1/no-such-path"), 404, "not_found")
    answer(submitter.post("/v1/jobs", data={"question": "what?"}), 422, "invalid_request")
    answer(submitter.post("/v1/jobs", data={"question": "what?"}, files=[("files", ("a.png", b""))]), 400, "empty_file")
    answer(submitter.post("/v1/jobs", data={"question": " "}, files=[("files", ("a.png", b"x"))]), 400, "bad_request")
    assert anonymous.get("/v1/jobs/nope").headers["www-authenticate"] == "Bearer"  # headers survive

    page = anonymous.get("/review", headers={"Accept-Language": "ja-JP,ja;q=0.9"})
    assert '<html lang="ja">' in page.text and page.headers["vary"] == "Accept-Language"
    assert '<html lang="en">' in anonymous.get("/dashboard").text
    assert anonymous.get("/static/locales/ja.json").json()["review"]["approve"] == "承認"


# ---------------------------------------------------------------- the pages in Chromium


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """Tabs in a browser speaking `locale` (navigator.languages and Accept-Language), in UTC,
    each failing the test on any uncaught script error."""
    contexts, errors = [], []

    def make(locale: str = "en-US") -> Page:
        context = browser.new_context(viewport={"width": 1366, "height": 900}, locale=locale, timezone_id="UTC")
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return page

    yield make
    for context in contexts:
        context.close()
    assert errors == [], f"script errors on the page: {errors}"


def serve_job(page: Page, tmp_path: Path) -> None:
    """Answer the review page's API calls from the fixture job (a low_confidence flag, a real
    confidence explanation), like test_evidence_by_capability's `served`."""
    job = {**json.loads(json.dumps(JOB)), "confidence_explained": EXPLAINED}
    blobs = {
        "a" * 64: (render_nameplate(tmp_path / "plate.png").read_bytes(), "image/png"),
        "c" * 64: (bus_photo().read_bytes(), "image/jpeg"),
    }

    def answer(route: Route) -> None:
        path = route.request.url.split("/v1/", 1)[1].split("?")[0]
        body: Any
        if path == "me":
            body = {"name": "test reviewer", "role": "reviewer"}
        elif path == "reviews":
            body = {"data": QUEUE}
        elif path.endswith("/claim"):
            body = {"claimed_by": "test reviewer", "claimed_until": "2999-01-01T00:00:00+00:00"}
        elif path == "jobs/cap-1":
            body = job
        elif path.startswith("artifacts/") and path.split("/")[1] in blobs:
            data, kind = blobs[path.split("/")[1]]
            return route.fulfill(body=data, content_type=kind)
        else:
            return route.fulfill(status=404, content_type="application/json",
                                 body=json.dumps({"detail": "not found", "code": "not_found"}))
        route.fulfill(content_type="application/json", body=json.dumps(body))

    page.route("**/v1/**", answer)


def full_screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.evaluate("document.getElementById('job') && (document.getElementById('job').scrollTop = 0)")
    page.screenshot(path=str(ARTIFACTS / name))


def test_a_japanese_browser_gets_the_japanese_review_page(server: Server, new_page: Callable[..., Page],
                                                          tmp_path: Path) -> None:
    page = new_page("ja-JP")
    serve_job(page, tmp_path)
    page.goto(f"{server.url}/review#cap-1")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.locator("#login-form button[type=submit]")).to_have_text("サインイン")
    sign_in(page, "a key the served API accepts")
    expect(page.locator("#job-meta")).to_contain_text("ジョブ cap-1")
    expect(page.locator("#job-meta")).to_contain_text("審査待ち")
    expect(page.locator("#job-meta")).to_contain_text("前に投稿")  # Intl.RelativeTimeFormat: "…年前に投稿"
    expect(page.locator("#btn-approve")).to_have_text("承認")
    expect(page.locator("#btn-edit")).to_have_text("修正して承認")
    expect(page.locator("#btn-reject")).to_have_text("却下")
    expect(page.locator(".nav .here")).to_have_text("審査キュー")
    expect(page.locator("#who-role")).to_have_text("審査者")
    expect(page.locator(".conf-label")).to_have_text("信頼度")
    # The flag: translated name and meaning, the server's English message kept as data.
    flag = page.locator("#flags-list li").first
    expect(flag.locator(".pill.flag")).to_have_text("低信頼度")
    expect(flag.locator(".flag-help")).to_have_text("ツールの読み取りに自信がありません。")
    expect(flag.locator('.flag-msg[lang="en"]')).to_have_text(FLAG_MESSAGE)
    expect(page.locator("#flags-title")).to_have_text("確認すべきフラグ 1 件")
    expect(page.locator("#conf-explained")).to_have_text("0.62 = 証拠 0.73(s1, s3, s4 の幾何平均) × 0.85(低信頼度)")
    # The queue: flag names, dates in the Japanese format (the age's title), the held badge.
    first = page.locator('#queue-list [data-job-id="cap-1"]')
    expect(first.locator(".kind")).to_have_text("低信頼度")
    expect(first.locator(".badge.flag")).to_have_text("フラグ 1 件")
    expect(first.locator(".age")).to_have_attribute("title", re.compile(r"^2024/05/03 \d{1,2}:\d{2}$"))
    expect(first.locator(".age")).to_contain_text("日")  # years ago → days, "…日"
    expect(page.locator('#queue-list [data-job-id="cap-2"] .badge.held')).to_have_text("担当中 · second reviewer")
    # Evidence and steps: a translated frame around the planner's own words.
    expect(page.locator("#steps .round").nth(0).locator(".round-head")).to_have_text("1 回目: first plan")
    expect(page.locator('article[data-file-id="f1"] .ocr-toggle button').nth(1)).to_have_text("行")
    expect(page.locator("#queue-status")).to_contain_text("更新")
    expect(page).to_have_title("(2) jimoku · 審査")
    # Rejecting without a reason: the page's own message, in Japanese.
    page.click("#btn-reject")
    expect(page.locator("#decision-error")).to_have_text("却下する前に、理由をコメントに書いてください。")
    full_screenshot(page, "review-ja.png")


def test_english_is_the_default_and_the_switch_is_remembered(server: Server, new_page: Callable[..., Page],
                                                             tmp_path: Path) -> None:
    page = new_page("en-US")
    serve_job(page, tmp_path)
    sign_in(page, "a key the served API accepts", f"{server.url}/review#cap-1")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#btn-approve")).to_have_text("Approve")
    expect(page.locator("#flags-list .pill.flag")).to_have_text("low_confidence")
    expect(page.locator("#flags-list li").first).to_contain_text(FLAG_MESSAGE)
    expect(page.locator("#conf-explained")).to_have_text(EXPLAINED)
    expect(page.locator('#queue-list [data-job-id="cap-1"] .age')).to_have_attribute(
        "title", re.compile(r"^May 3, 2024, \d{1,2}:\d{2}\s?[AP]M$"))
    expect(page.locator(".topbar .lang-switch button.on")).to_have_text("English")
    full_screenshot(page, "review-en.png")

    # Switch: the page reloads in Japanese, still signed in (the key is in session storage).
    page.click('.topbar .lang-switch button[data-lang="ja"]')
    expect(page.locator("#btn-approve")).to_have_text("承認")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.locator(".topbar .lang-switch button.on")).to_have_text("日本語")
    # Remembered: across a reload, and on the other page, although the browser asks for English.
    page.reload()
    expect(page.locator("#btn-approve")).to_have_text("承認")
    page.click('a[href="/dashboard"]')
    expect(page.locator("#automation h2")).to_have_text("自動化率")
    # And back.
    page.click('.topbar .lang-switch button[data-lang="en"]')
    expect(page.locator("#automation h2")).to_have_text("Automation ratio")
    assert page.evaluate("localStorage.getItem('jimoku.lang')") == "en"


def test_api_errors_are_shown_translated_from_their_code(server: Server, new_page: Callable[..., Page]) -> None:
    """Against the real API: a submitter key, and a job that does not exist."""
    page = new_page("ja-JP")
    sign_in(page, server.keys["submitter"], f"{server.url}/review")
    expect(page.locator("#login-error")).to_have_text(
        "これは投稿者のキーです。審査ページには審査者または管理者のキーが必要です。")
    sign_in(page, "not a key")
    expect(page.locator("#login-error")).to_have_text("このキーは受け付けられませんでした。")
    full_screenshot(page, "sign-in-ja.png")

    page.goto(f"{server.url}/review#no-such-job")
    sign_in(page, server.keys["reviewer"])
    # 404 {"code": "job_not_found", "detail": "no job no-such-job"}: translated, English specifics kept.
    expect(page.locator("#job-empty")).to_have_text(
        "ジョブ no-such-job を開けませんでした: そのジョブはありません。(no job no-such-job)")


def test_the_dashboard_in_both_languages(server: Server, new_page: Callable[..., Page]) -> None:
    """The real dashboard with made-up figures (durations, days, counts) patched into /v1/stats."""

    def stats(route: Route) -> None:
        body = route.fetch().json()
        body.update({
            "decided": 1234,
            "automation": [{"day": "2026-11-30", "jobs": 1000, "auto_approved": 400, "ratio": 0.4},
                           {"day": "2026-12-01", "jobs": 234, "auto_approved": 117, "ratio": 0.5}],
            "audits": {"count": 40, "agreed": 39, "precision": 0.975},
            "review_turnaround_s": {"count": 717, "p50": 240, "p95": 3900},
            "top_flags": [{"kind": "uncertain_alarm", "count": 1200}, {"kind": "conflict", "count": 3}],
        })
        route.fulfill(content_type="application/json", body=json.dumps(body))

    shown = {}
    for locale, lang in (("ja-JP", "ja"), ("en-US", "en")):
        page = new_page(locale)
        page.route("**/v1/stats", stats)
        sign_in(page, server.keys["admin"], f"{server.url}/dashboard")
        expect(page.locator("#status")).to_contain_text("更新" if lang == "ja" else "updated")
        shown[lang] = {
            "p50": page.locator("#turnaround-p50").inner_text(),
            "p95": page.locator("#turnaround-p95").inner_text(),
            "detail": page.locator("#turnaround-detail").inner_text(),
            "flag": page.locator("#flag-bars li .flag-kind").first.inner_text(),
            "count": page.locator("#flag-bars li .flag-count").first.inner_text(),
            "summary": page.locator("#automation-summary").inner_text(),
            "title": page.locator("#turnaround h2").text_content(),  # (CSS upper-cases it)
        }
        page.set_viewport_size({"width": 1366, "height": page.evaluate("document.body.scrollHeight")})
        full_screenshot(page, f"dashboard-{lang}.png")
    assert shown["ja"] == {
        "p50": "4分", "p95": "1時間5分", "detail": "回答案が審査待ちになってから判定までの時間(審査 717 件)。",
        "flag": "不確かな警報", "count": "1,200",
        "summary": "全期間: 判定済みジョブ 1,234 件のうち 517 件をルールで承認(42%)、2026/11/30以降",
        "title": "審査にかかる時間",
    }
    assert shown["en"] == {
        "p50": "4 min", "p95": "1 h 5 min", "detail": "From the moment a draft awaited review to the decision, over 717 reviews.",
        "flag": "uncertain_alarm", "count": "1,200",
        "summary": "All time: 517 of 1,234 decided jobs approved by rule (42%) since Nov 30, 2026",
        "title": "Review turnaround",
    }
