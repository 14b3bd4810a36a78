"""The reviewer's page in a real browser (Debian's Chromium) against the real service.

The jobs run the real planner and tools, so what the page draws is what YOLO found and
what the LLM drafted; the assertions compare the page with the API's own answers.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.fixtures.images import render_nameplate
from tests.fixtures.server import Server, running_server, wait_for_status
from tests.web.conftest import sign_in, wait_for_image

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

SCREENSHOT = Path(__file__).resolve().parents[2] / "test-artifacts" / "review-page.png"

QUESTION = "Which model is on the plate, and how many people are in the photo?"
HOSTILE = ('What does this plate say? <img src=x onerror="window.__xss=1"> '
           "<script>window.__xss=2</script>")
HOSTILE_NAME = '<img src=x onerror="window.__xss=3">.png'
SETTLED = {"awaiting_review", "approved", "rejected", "failed"}


def bus_photo() -> Path:
    """Ultralytics' sample street photo (people by a bus), shipped inside the package."""
    spec = importlib.util.find_spec("ultralytics")
    assert spec and spec.origin
    return Path(spec.origin).parent / "assets" / "bus.jpg"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The reviewer's page on both backends (PostgreSQL: a `jimoku worker` process runs the jobs)."""
    url = request.getfixturevalue("postgres").new_database() if request.param == "postgres" else None
    with running_server(tmp_path_factory.mktemp("web") / "data", database_url=url, workers=1) as server:
        yield server


@pytest.fixture(scope="module")
def jobs(server: Server, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Both jobs, submitted at once so the worker runs them back to back."""
    folder = tmp_path_factory.mktemp("files")
    plate = render_nameplate(folder / "nameplate.png")
    submitter = server.client("submitter")

    def submit(question: str, files: list[tuple[str, bytes]]) -> str:
        response = submitter.post("/v1/jobs", data={"question": question},
                                  files=[("files", f) for f in files])
        assert response.status_code == 202, response.text
        return response.json()["id"]

    return {
        "plate_and_people": submit(QUESTION, [("nameplate.png", plate.read_bytes()),
                                              ("bus.jpg", bus_photo().read_bytes())]),
        "hostile": submit(HOSTILE, [(HOSTILE_NAME, plate.read_bytes())]),
    }


def awaiting_review(client: httpx.Client, job_id: str) -> dict:
    doc = wait_for_status(client, job_id, SETTLED, timeout=600)
    assert doc["status"] == "awaiting_review", f"job {job_id} is {doc['status']}: {doc['error']}"
    return doc


def open_job(page: Page, job_id: str) -> None:
    page.click(f'#queue-list [data-job-id="{job_id}"]')
    expect(page.locator("#job-meta")).to_contain_text(f"job {job_id}")


def test_only_reviewer_and_admin_keys_sign_in(server: Server, page: Page) -> None:
    sign_in(page, server.keys["submitter"], f"{server.url}/review")
    expect(page.locator("#login-error")).to_contain_text("needs a reviewer or admin key")
    expect(page.locator("#app")).to_be_hidden()

    sign_in(page, "not-a-key")
    expect(page.locator("#login-error")).to_contain_text("not accepted")

    sign_in(page, server.keys["reviewer"])
    expect(page.locator("#who-name")).to_have_text("test reviewer")
    # The key lives in this tab's session storage until "log out" clears it.
    page.reload()
    expect(page.locator("#who-name")).to_have_text("test reviewer")
    page.click("#logout")
    expect(page.locator("#login")).to_be_visible()
    assert page.evaluate("sessionStorage.length") == 0


def test_review_a_job_with_boxes_edit_the_draft_and_approve(server: Server, jobs: dict[str, str], page: Page) -> None:
    job_id = jobs["plate_and_people"]
    doc = awaiting_review(server.client("submitter"), job_id)
    bus = next(f for f in doc["files"] if f["name"] == "bus.jpg")
    detect_steps = [s for s in doc["steps"] if s["tool"] == "detect" and s["file"] == bus["id"] and s["ok"]]
    assert detect_steps, f"the planner did not run the detector on the photo: {doc['plan']}"
    detections = [(d, s["result"]) for s in detect_steps for d in s["result"]["detections"]]
    assert detections, "the detector found nobody on bus.jpg"

    sign_in(page, server.keys["reviewer"], f"{server.url}/review")
    open_job(page, job_id)

    # Flags and confidence at the top, as the API has them; under the draft, who wrote it.
    expect(page.locator("#banner")).to_have_attribute("data-flags", str(len(doc["flags"])))
    expect(page.locator("#draft-source")).to_have_text(
        {"llm": "written by the LLM", "code": "written by code from the evidence (no LLM)"}[doc["draft_source"]])
    expect(page.locator("#conf-value")).to_have_text(f"{math.floor(doc['confidence'] * 100 + 0.5)}%")

    # One box per detection, placed where the detector saw it on the displayed image.
    figure = page.locator(f'article[data-file-id="{bus["id"]}"] figure')
    expect(figure).to_have_attribute("data-boxes-drawn", str(len(detections)))
    boxes = figure.locator(".box.det")
    expect(boxes).to_have_count(len(detections))
    wait_for_image(page, bus["id"])
    figure.scroll_into_view_if_needed()
    img = figure.locator("img").bounding_box()
    assert img and img["width"] > 100
    expected = [
        (img["x"] + d["box"][0] / r["width"] * img["width"], img["y"] + d["box"][1] / r["height"] * img["height"],
         (d["box"][2] - d["box"][0]) / r["width"] * img["width"])
        for d, r in detections
    ]
    for i in range(len(detections)):
        drawn = boxes.nth(i).bounding_box()
        assert drawn and any(abs(drawn["x"] - x) < 2 and abs(drawn["y"] - y) < 2 and abs(drawn["width"] - w) < 2
                             for x, y, w in expected), f"box {drawn} matches no detection {expected}"
    for d, _ in detections:
        expect(figure).to_contain_text(f"{d['class_name']} {d['confidence']:.2f}")

    # The draft is in the editor; an edit turns "approve" into "save edit & approve".
    editor = page.locator("#answer")
    expect(editor).to_have_value(doc["draft_answer"])
    expect(page.locator("#btn-approve")).to_be_enabled()
    edited = f"The plate shows model KX-200. The photo shows {len(detections)} people. (Checked by the reviewer.)"
    editor.fill(edited)
    expect(page.locator("#btn-approve")).to_be_disabled()
    expect(page.locator("#btn-edit")).to_be_enabled()
    # The whole job in one picture: the window grown to the job's height for the shot.
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.evaluate("document.getElementById('job').scrollTop = 0")
    height = page.evaluate("document.getElementById('job').scrollHeight + 44")
    page.set_viewport_size({"width": 1366, "height": max(768, height)})
    page.screenshot(path=str(SCREENSHOT))
    page.set_viewport_size({"width": 1366, "height": 768})

    page.click("#btn-edit")
    expect(page.locator("#toast")).to_contain_text(f"Edited and approved job {job_id}")
    expect(page.locator(f'#queue-list [data-job-id="{job_id}"]')).to_have_count(0)
    page.wait_for_function(  # moved on: to the next job, or to "queue is empty"
        "id => document.getElementById('job-view').hidden || !document.getElementById('job-meta').textContent.includes(id)",
        arg=job_id)

    final = server.client("reviewer").get(f"/v1/jobs/{job_id}").json()
    assert final["status"] == "approved"
    assert final["final_answer"] == edited
    assert final["review"]["decision"] == "edit" and final["review"]["reviewer"] == "test reviewer"


def test_hostile_text_is_shown_as_text_and_a_held_job_cannot_be_decided(
    server: Server, jobs: dict[str, str], page: Page,
) -> None:
    job_id = jobs["hostile"]
    doc = awaiting_review(server.client("submitter"), job_id)
    # Another reviewer holds the job: the page must say so and keep its buttons off.
    assert server.client("reviewer2").post(f"/v1/reviews/{job_id}/claim").status_code == 200

    sign_in(page, server.keys["reviewer"], f"{server.url}/review")
    item = page.locator(f'#queue-list [data-job-id="{job_id}"]')
    expect(item).to_contain_text(HOSTILE)
    expect(item).to_contain_text("held · second reviewer")
    open_job(page, job_id)

    expect(page.locator("#question")).to_have_text(HOSTILE)
    expect(page.locator(".file-name")).to_have_text(doc["files"][0]["name"])
    expect(page.locator("#answer")).to_have_value(doc["draft_answer"])
    page.wait_for_timeout(500)  # let any injected handler (there must be none) fire
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator('img[src="x"]').count() == 0
    assert page.evaluate("document.scripts.length") == 1  # our module only

    expect(page.locator("#claim-note")).to_contain_text("claimed by second reviewer")
    for button in ("#btn-approve", "#btn-edit", "#btn-reject"):
        expect(page.locator(button)).to_be_disabled()
    page.keyboard.press("a")  # the shortcut must not get round the claim either
    page.wait_for_timeout(300)
    assert server.client("reviewer").get(f"/v1/jobs/{job_id}").json()["status"] == "awaiting_review"
