"""The reviewer page draws evidence by what a step produces, never by the tool's name.

Two halves:

- a plugin text reader (`tests/fixtures/plate_reader.py`: tool `plate_reader`,
  `produces="text"`) registered in the real service through `JIMOKU_PLUGINS_DIR`, run by the
  real planner on a nameplate, gets the OCR overlay (line and word boxes where the reader
  saw them, the lines listed, the lines/words switch) exactly as the built-in `ocr` does;
- a job document served to the page by Playwright (the service serves the page itself)
  with steps from tools the page has never heard of, one per capability: `ocr` and a
  plugin reader with the same result draw the same overlay, a transcript marks its unsure
  words, detections are boxed, a step without `produces` (an older job) shows its summary,
  and a second planning round is labelled with its reason.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from tests.fixtures.images import render_nameplate, write_silent_wav
from tests.fixtures.server import Server, running_server, wait_for_status
from tests.web.conftest import sign_in, wait_for_image

STATIC = Path(__file__).resolve().parents[2] / "app" / "web" / "static"
# The plugin's file, copied into a plugins folder; never imported here (importing it would
# register the tool in this process for every later test).
PLUGIN = Path(__file__).resolve().parents[1] / "fixtures" / "plate_reader.py"
READER = "plate_reader"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SETTLED = {"awaiting_review", "approved", "rejected", "failed"}


def test_the_page_compares_no_tool_names() -> None:
    """No script of the pages branches on a tool's name (`step.tool === "ocr"` and the like)."""
    offenders = []
    for path in sorted(STATIC.rglob("*.js")):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"\.tool\s*[!=]==?|[!=]==?\s*\w+\.tool\b", line) or re.search(
                r"""[!=]==?\s*["'](ocr|asr|detect)["']|["'](ocr|asr|detect)["']\s*[!=]==?""", line
            ):
                offenders.append(f"{path.relative_to(STATIC)}:{n}: {line.strip()}")
    assert offenders == []


def overlay(page: Page, file_id: str) -> dict[str, Any]:
    """The text overlay drawn on a file's photo: box counts and each line box's placement (in %)."""
    return page.evaluate(
        """id => {
        const fig = document.querySelector(`article[data-file-id="${id}"] figure`);
        const place = (b) => [b.style.left, b.style.top, b.style.width, b.style.height];
        return {
            ocrBoxes: fig.dataset.ocrBoxes,
            lines: [...fig.querySelectorAll(".ocr-lines .box.ocr")].map(place),
            words: [...fig.querySelectorAll(".ocr-words .box.ocr")].map(place),
            toggle: !!fig.querySelector(".ocr-toggle"),
            listed: [...fig.closest("article").querySelectorAll(".ocr-text .text")].map((t) => t.textContent),
        };
    }""",
        file_id,
    )


# ---------------------------------------------------------------- a real plugin in the real service


@pytest.fixture(scope="module")
def plugin_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The service with the plugin text reader as its only tool (so the planner must use it)."""
    plugins = tmp_path_factory.mktemp("plugins")
    shutil.copy(PLUGIN, plugins / f"{READER}.py")
    env = {"JIMOKU_PLUGINS_DIR": str(plugins), "JIMOKU_PLUGINS": READER}
    with running_server(tmp_path_factory.mktemp("plugin-web") / "data", extra_env=env) as server:
        yield server


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_a_plugin_text_reader_gets_the_ocr_overlay(plugin_server: Server, page: Page, tmp_path: Path) -> None:
    submitter = plugin_server.client("submitter")
    listed = submitter.get("/v1/tools").json()
    cards = {c["name"]: c for c in listed["data"]}
    assert set(cards) == {READER} and cards[READER]["produces"] == "text"

    plate = render_nameplate(tmp_path / "nameplate.png")
    response = submitter.post(
        "/v1/jobs",
        data={"question": "What is the serial number on this plate?"},
        files=[("files", ("nameplate.png", plate.read_bytes()))],
    )
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    doc = wait_for_status(submitter, job_id, SETTLED, timeout=600)
    assert doc["status"] == "awaiting_review", f"job {job_id} is {doc['status']}: {doc['error']}"
    (step,) = [s for s in doc["steps"] if s["tool"] == READER and s["ok"]]
    assert step["produces"] == "text"
    (read,) = step["result"]["pages"]
    lines = [line for line in read["lines"] if line["box"]]
    words = [w for w in read["words"] if w["box"]]
    assert any("AX-4471-B" in line["text"] for line in lines), read["lines"]

    sign_in(page, plugin_server.keys["reviewer"], f"{plugin_server.url}/review#{job_id}")
    expect(page.locator("#job-meta")).to_contain_text(f"job {job_id}")
    file_id = step["file"]
    figure = page.locator(f'article[data-file-id="{file_id}"] figure')
    expect(figure).to_have_attribute("data-ocr-boxes", str(len(lines) + len(words)))
    drawn = overlay(page, file_id)
    assert drawn["toggle"] and len(drawn["lines"]) == len(lines) and len(drawn["words"]) == len(words)
    assert drawn["listed"] == [line["text"] for line in read["lines"]]

    # Each line's box sits where the reader saw it on the displayed image.
    wait_for_image(page, file_id)
    figure.scroll_into_view_if_needed()
    img = figure.locator("img").bounding_box()
    assert img and img["width"] > 100
    boxes = figure.locator(".ocr-lines .box.ocr")
    for i, line in enumerate(lines):
        x0, y0, x1, _ = line["box"]
        got = boxes.nth(i).bounding_box()
        assert got is not None
        assert abs(got["x"] - (img["x"] + x0 / read["width"] * img["width"])) < 2
        assert abs(got["y"] - (img["y"] + y0 / read["height"] * img["height"])) < 2
        assert abs(got["width"] - (x1 - x0) / read["width"] * img["width"]) < 2
    # Lines and words switch like the built-in OCR's overlay.
    expect(figure.locator(".ocr-lines").first).to_be_visible()
    figure.locator(".ocr-toggle button", has_text="words").click()
    expect(figure.locator(".ocr-words").first).to_be_visible()
    expect(figure.locator(".ocr-lines").first).to_be_hidden()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "review-plugin-text.png"))


# ---------------------------------------------------------------- every capability, from a served document


def bus_photo() -> Path:
    """Ultralytics' sample street photo (people by a bus), shipped inside the package."""
    spec = importlib.util.find_spec("ultralytics")
    assert spec and spec.origin
    return Path(spec.origin).parent / "assets" / "bus.jpg"


# What the nameplate fixture reads as (boxes in its 523×218 pixels).
PLATE_TEXT = {
    "text": "SERIAL NO. AX-4471-B\nMODEL KX-200\n200V 50Hz",
    "lang": "eng",
    "summary": "SERIAL NO. AX-4471-B …",
    "confidence": 0.9,
    "warnings": [],
    "pages": [
        {
            "page": 1,
            "source": "ocr",
            "engine": "tesseract",
            "width": 523,
            "height": 218,
            "lines": [
                {"text": "SERIAL NO. AX-4471-B", "confidence": 0.93, "box": [39, 44, 485, 70]},
                {"text": "MODEL KX-200", "confidence": 0.91, "box": [39, 100, 333, 126]},
                {"text": "200V 50Hz", "confidence": 0.52, "box": [39, 156, 251, 182]},
            ],
            "words": [
                {"text": "SERIAL", "confidence": 0.95, "box": [39, 44, 177, 70], "line": 0},
                {"text": "NO.", "confidence": 0.92, "box": [194, 44, 261, 70], "line": 0},
                {"text": "AX-4471-B", "confidence": 0.91, "box": [279, 44, 485, 70], "line": 0},
                {"text": "MODEL", "confidence": 0.93, "box": [39, 100, 180, 126], "line": 1},
                {"text": "KX-200", "confidence": 0.89, "box": [197, 100, 333, 126], "line": 1},
                {"text": "200V", "confidence": 0.5, "box": [39, 156, 131, 182], "line": 2},
                {"text": "50Hz", "confidence": 0.54, "box": [148, 156, 251, 182], "line": 2},
            ],
        }
    ],
}
TRANSCRIPT = {
    "text": "The serial number is AX-4471-B. Model KX-200.",
    "language": "en",
    "duration_s": 4.0,
    "summary": "The serial number is AX-4471-B. Model KX-200.",
    "confidence": 0.7,
    "warnings": [],
    "segments": [
        {
            "start": 0.0,
            "end": 2.4,
            "text": " The serial number is AX 4471 B.",
            "confidence": 0.82,
            "words": [
                {"text": "The", "start": 0.0, "end": 0.2, "probability": 0.98},
                {"text": "serial", "start": 0.2, "end": 0.6, "probability": 0.95},
                {"text": "number", "start": 0.6, "end": 1.0, "probability": 0.97},
                {"text": "is", "start": 1.0, "end": 1.2, "probability": 0.99},
                {"text": "AX", "start": 1.2, "end": 1.6, "probability": 0.44},
                {"text": "4471", "start": 1.6, "end": 2.0, "probability": 0.31},
                {"text": "B.", "start": 2.0, "end": 2.4, "probability": 0.72},
            ],
        },
        {"start": 2.4, "end": 4.0, "text": " Model KX-200.", "confidence": 0.55},  # no words: nothing marked
    ],
}
DETECTIONS = {
    "summary": "2 people: 1 Normal, 1 Fall",
    "confidence": 0.79,
    "warnings": [],
    "width": 810,
    "height": 1080,
    "classes": ["Normal", "Fall"],
    "counts": {"Normal": 1, "Fall": 1},
    "detections": [
        {"class_name": "Normal", "confidence": 0.91, "box": [48, 398, 246, 905]},
        {"class_name": "Fall", "confidence": 0.67, "box": [470, 700, 800, 880]},
    ],
}
FILES = [
    {"id": "f1", "name": "nameplate.png", "kind": "image", "sha256": "a" * 64},
    {"id": "f2", "name": "nameplate-again.png", "kind": "image", "sha256": "a" * 64},
    {"id": "f3", "name": "memo.wav", "kind": "audio", "sha256": "b" * 64},
    {"id": "f4", "name": "yard.jpg", "kind": "image", "sha256": "c" * 64},
]


def step(sid: str, tool: str, produces: str | None, file: str, result: dict[str, Any], rnd: int = 1) -> dict[str, Any]:
    s = {
        "step": sid,
        "tool": tool,
        "file": file,
        "ok": True,
        "summary": result["summary"],
        "confidence": result["confidence"],
        "duration_ms": 840,
        "cached": False,
        "result": result,
        "error": None,
        "error_kind": None,
        "round": rnd,
    }
    if produces is not None:
        s["produces"] = produces
    return s


STEPS = [
    step("s1", "ocr", "text", "f1", PLATE_TEXT),
    step("s2", "plate_reader", "text", "f2", PLATE_TEXT),
    step("s3", "speech_notes", "transcript", "f3", TRANSCRIPT),
    step("s4", "people_counter", "detections", "f4", DETECTIONS, rnd=2),
    # An older job's step: no `produces`, so the page shows its summary.
    step("s5", "gauge_reading", None, "f4", {"summary": "Gauge reads 4.2 bar", "confidence": 0.9, "bar": 4.2}, rnd=2),
]
REASON = "the memo's serial number was not heard clearly; looking at the yard photo"
JOB = {
    "id": "cap-1",
    "status": "awaiting_review",
    "question": "Does the memo's serial number match the plate, and is anyone down?",
    "created_at": "2024-05-03T09:00:00+00:00",
    "files": FILES,
    "plan": [
        {
            "id": s["step"],
            "tool": s["tool"],
            "file": s["file"],
            "args": {},
            "origin": "planner",
            "depends_on": [],
            "round": s["round"],
            **({"produces": s["produces"]} if "produces" in s else {}),
        }
        for s in STEPS
    ],
    "plan_notes": [],
    "steps": STEPS,
    "rounds": [{"round": 1, "reason": "first plan"}, {"round": 2, "reason": REASON}],
    "draft_answer": "The plate reads AX-4471-B, as the memo says [s1][s3]. One person has fallen [s4].",
    "citations": ["s1", "s3", "s4"],
    "facts": ["people counted: 2 (1 Fall)"],
    "flags": [
        {"kind": "low_confidence", "message": "Parts of the memo were heard with low confidence.", "steps": ["s3"]}
    ],
    "confidence": 0.62,
    "confidence_explained": "mean step confidence 0.80, lowered by one flag",
    "review": None,
    "error": None,
}
QUEUE = [
    {
        "id": "cap-1",
        "question": JOB["question"],
        "created_at": JOB["created_at"],
        "confidence": 0.62,
        "flags": JOB["flags"],
        "claimed_by": None,
        "claimed_until": None,
    },
    {
        "id": "cap-2",
        "question": "Which model is on the plate?",
        "created_at": "2024-05-03T09:05:00+00:00",
        "confidence": 0.94,
        "flags": [],
        "claimed_by": "second reviewer",
        "claimed_until": "2999-01-01T00:00:00+00:00",
    },
]


@pytest.fixture(scope="module")
def page_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The service only serves the page here; no model runs."""
    with running_server(tmp_path_factory.mktemp("cap-web") / "data", extra_env={"JIMOKU_WARM_UP": "0"}) as server:
        yield server


@pytest.fixture
def served(page: Page, tmp_path: Path) -> Page:
    """`page` with the API answered from JOB, QUEUE and the fixture files."""
    blobs = {
        "a" * 64: (render_nameplate(tmp_path / "plate.png").read_bytes(), "image/png"),
        "b" * 64: (write_silent_wav(tmp_path / "memo.wav", seconds=4.0).read_bytes(), "audio/wav"),
        "c" * 64: (bus_photo().read_bytes(), "image/jpeg"),
    }

    def answer(route: Route) -> None:
        path = route.request.url.split("/v1/", 1)[1].split("?")[0]
        if path == "me":
            body: Any = {"name": "test reviewer", "role": "reviewer"}
        elif path == "reviews":
            body = {"data": QUEUE}
        elif path.endswith("/claim"):
            body = {"claimed_by": "test reviewer", "claimed_until": "2999-01-01T00:00:00+00:00"}
        elif path == "jobs/cap-1":
            body = JOB
        elif path.startswith("artifacts/"):
            data, kind = blobs[path.split("/")[1]]
            return route.fulfill(body=data, content_type=kind)
        else:
            return route.fulfill(status=404, content_type="application/json", body=json.dumps({"detail": "not found"}))
        route.fulfill(content_type="application/json", body=json.dumps(body))

    page.route("**/v1/**", answer)
    return page


def test_each_capability_is_drawn_whatever_the_tool_is_called(page_server: Server, served: Page) -> None:
    page = served
    sign_in(page, "a key the served API accepts", f"{page_server.url}/review#cap-1")
    expect(page.locator("#job-meta")).to_contain_text("job cap-1")
    expect(page.locator("#job-meta")).to_contain_text("2 planning rounds")

    # text: the built-in `ocr` and a plugin reader with the same result draw the same overlay.
    expect(page.locator('article[data-file-id="f2"] figure')).to_have_attribute("data-ocr-boxes", "10")
    builtin, plugin = overlay(page, "f1"), overlay(page, "f2")
    assert builtin == plugin
    assert builtin["ocrBoxes"] == "10" and len(builtin["lines"]) == 3 and builtin["toggle"]
    assert builtin["listed"] == ["SERIAL NO. AX-4471-B", "MODEL KX-200", "200V 50Hz"]
    # First-round readings carry no round label; later rounds' do (below).
    expect(page.locator('article[data-file-id="f2"] .reading.text .pill')).to_have_text("s2 plate_reader")

    # transcript: segments with times; words under 0.5 probability marked, with it in the title.
    memo = page.locator('article[data-file-id="f3"]')
    expect(memo.locator(".segments li")).to_have_count(2)
    unsure = memo.locator(".word.low-prob")
    expect(unsure).to_have_count(2)
    expect(unsure.nth(0)).to_have_text("AX")
    expect(unsure.nth(1)).to_have_text("4471")
    expect(unsure.nth(1)).to_have_attribute("title", "probability 0.31")
    expect(memo.locator(".segments li").nth(0).locator(".text")).to_have_text("The serial number is AX 4471 B.")
    texts = memo.locator(".segments .text").evaluate_all("ts => ts.map((t) => t.textContent)")
    assert texts == ["The serial number is AX 4471 B.", "Model KX-200."]  # Whisper's leading spaces dropped

    # detections: a labelled box per object, whatever the detector is called.
    yard = page.locator('article[data-file-id="f4"]')
    expect(yard.locator("figure")).to_have_attribute("data-boxes-drawn", "2")
    expect(yard.locator(".box.det")).to_have_count(2)
    expect(yard.locator(".box.det.fall")).to_have_count(1)
    expect(yard.locator(".reading.detections")).to_contain_text("1 Normal · 1 Fall")

    # No `produces` (an older job): the step's summary, and no overlay of any kind.
    expect(yard.locator(".reading.report")).to_have_text("s5 gauge_reading · round 2 Gauge reads 4.2 bar")

    # The second planning round is labelled with its reason.
    rounds = page.locator("#steps .round")
    expect(rounds).to_have_count(2)
    expect(rounds.nth(0).locator(".round-head")).to_have_text("Round 1: first plan")
    expect(rounds.nth(1).locator(".round-head")).to_have_text(f"Round 2: looked again — {REASON}")
    expect(rounds.nth(1).locator("details.step")).to_have_count(2)

    ARTIFACTS.mkdir(exist_ok=True)
    page.evaluate("document.getElementById('job').scrollTop = 0")
    height = page.evaluate("document.getElementById('job').scrollHeight + 44")
    page.set_viewport_size({"width": 1366, "height": max(768, height)})
    page.screenshot(path=str(ARTIFACTS / "review-capabilities.png"))


def test_one_round_and_no_produces_anywhere_still_reads(page_server: Server, served: Page) -> None:
    """An older job document: no `produces`, no `round`, no `rounds` — every reading is its summary."""
    old = json.loads(json.dumps(JOB))
    for s in old["steps"] + old["plan"]:
        s.pop("produces", None)
        s.pop("round", None)
    old.pop("rounds")
    # Routed after the catch-all, so this one answers for the job.
    served.route("**/v1/jobs/cap-1", lambda route: route.fulfill(content_type="application/json", body=json.dumps(old)))
    sign_in(served, "a key the served API accepts", f"{page_server.url}/review#cap-1")
    expect(served.locator("#job-meta")).to_contain_text("job cap-1")
    expect(served.locator("#job-meta")).not_to_contain_text("round")
    expect(served.locator("#steps .round")).to_have_count(0)
    expect(served.locator("#steps details.step")).to_have_count(5)
    expect(served.locator(".reading.report")).to_have_count(5)
    expect(served.locator(".box")).to_have_count(0)
    expect(served.locator('article[data-file-id="f1"] .reading.report')).to_have_text("s1 ocr SERIAL NO. AX-4471-B …")


def test_a_cited_line_of_a_long_document_is_one_click_away(page_server: Server, served: Page) -> None:
    """The draft cites "s1:p27:l4" in a 30-page reading; its chip scrolls to that very line."""
    doc = json.loads(json.dumps(JOB))
    pages = [{"page": p, "source": "text_layer", "engine": "text_layer", "width": 600, "height": 800, "words": [],
              "lines": [{"text": f"Section {p}.{i}: handling notes", "confidence": 1.0, "box": None}
                        for i in range(1, 41)]} for p in range(1, 31)]
    pages[26]["lines"][3]["text"] = "Operating temperature range: 10 °C to 50 °C"
    long_step = step("s1", "spec_reader", "text", "f1", {"summary": "Read 1200 lines from 30 pages", "confidence": 1.0,
                                                         "text": "…", "lang": "eng", "pages": pages})
    doc["steps"] = [long_step]
    doc["plan"] = [doc["plan"][0] | {"tool": "spec_reader"}]
    doc["files"] = FILES[:1]
    doc["citations"], doc["cited_lines"] = ["s1"], ["s1:p27:l4"]
    doc["draft_answer"] = "The operating temperature range is 10 °C to 50 °C."
    served.route("**/v1/jobs/cap-1", lambda route: route.fulfill(content_type="application/json", body=json.dumps(doc)))
    sign_in(served, "a key the served API accepts", f"{page_server.url}/review#cap-1")
    chip = served.locator("#citations .chip.line-ref")
    expect(chip).to_have_text("s1 p27 l4")
    chip.click()
    line = served.locator('[data-ref="s1:p27:l4"]')
    expect(line).to_contain_text("Operating temperature range: 10 °C to 50 °C")
    expect(line).to_have_class(re.compile(r"\bhot\b"))
    expect(line).to_be_in_viewport()
