// Review page: each file with what the steps read from it.
//
// A step's reading is drawn by what the step *produces* (`step.produces`, declared by the
// tool with `@tool(produces=...)`), never by the tool's name, so a plugin OCR engine gets
// the same overlay as the built-in one:
//   text        → the lines read, boxed on the photo (lines or words), listed with confidences
//   transcript  → timed segments that play the recording from there; unsure words marked
//   detections  → a labelled box per object on the photo, counts per class
//   report      → the tool's summary (also any step without `produces`, from older jobs)
// Text lines and transcript segments an `instruction_in_evidence` flag quotes are marked
// `suspicious`, labelled as read like an instruction and treated as data.

import { el } from "../common.js";
import { boxAt, declutterLabels, renderAudio, renderDocument, renderImage } from "./media.js";
import { artifactUrl, clock, num, state } from "./state.js";
import { duration as spoken, t, tOr } from "../i18n.js";

const WEAK = 0.6; // OCR lines and segments below this confidence are shown as weak
const LOW_PROB = 0.5; // transcript words below this probability are marked

/** The reading's renderer for each capability. */
const RENDERERS = { text: showText, transcript: showTranscript, detections: drawDetections, report: showReport };

/** What a step produces, as the page draws it: "report" when unknown or missing (older jobs). */
export function capability(step, plan) {
  const produces = step.produces ?? plan?.produces;
  return Object.hasOwn(RENDERERS, produces) ? produces : "report";
}

/**
 * One file's card: the file itself, then each of its steps' readings. `roundOf(step)` gives the
 * planning round, so readings from a later round (the agent looked again) are labelled.
 */
export function renderFile(file, job, token, roundOf = () => 1) {
  const steps = (job.steps ?? []).filter((s) => s.file === file.id);
  const planned = new Map((job.plan ?? []).map((p) => [p.id, p]));
  const card = el("article", { class: `file ${file.kind}`, data: { fileId: file.id } });
  card.append(
    el("header", { class: "file-head" },
      el("span", { class: "pill" }, tOr("files", `kind_${file.kind}`, file.kind)),
      el("strong", { class: "file-name" }, file.name),
      el("span", { class: "muted small" }, `${file.id} · sha256 ${file.sha256.slice(0, 12)}…`)),
  );
  const media = { card, suspicious: suspiciousQuotes(job) };
  const loadUrl = (type) =>
    artifactUrl(file.sha256, type).then((url) => {
      if (token !== state.token) URL.revokeObjectURL(url);
      return url;
    });

  if (file.kind === "image") media.stage = renderImage(card, loadUrl);
  if (file.kind === "audio") media.audio = renderAudio(card, loadUrl);
  if (file.kind === "document") renderDocument(card, file, loadUrl);

  for (const step of steps) {
    const round = roundOf(step);
    // Steps of a later planning round say so; the first round's need no label.
    const label = el("span", { class: "pill" }, `${step.step} ${step.tool}`, round > 1 ? t("evidence.round", { round }) : "");
    if (!step.ok || !step.result) {
      card.append(el("p", { class: "step-error" },
        label, " ", t("evidence.failed", { kind: step.error_kind ?? "error", error: step.error ?? t("evidence.no_result") })));
    } else {
      RENDERERS[capability(step, planned.get(step.step))](media, step, label);
    }
  }
  if (!steps.length) card.append(el("p", { class: "muted small" }, t("evidence.no_step")));
  return card;
}

// ---------------------------------------------------------------- report

function showReport(media, step, label) {
  media.card.append(el("p", { class: "reading report" }, label, " ", step.summary));
}

// ---------------------------------------------------------------- detections

function drawDetections(media, step, label) {
  const r = step.result;
  const dets = r.detections ?? [];
  const counts = Object.entries(r.counts ?? {}).map(([k, n]) => `${n} ${k}`).join(" · ") || t("evidence.nothing_found");
  const caption = el("p", { class: "reading detections" }, label, " ", counts, ` (${t("evidence.mean_confidence", { value: num(step.confidence) })})`);
  const stage = media.stage;
  if (!stage || !r.width || !r.height) return media.card.append(caption);
  const layer = el("div", { class: "layer det-layer" });
  // Most confident last, so its label is the one on top where boxes overlap.
  for (const d of [...dets].sort((x, y) => x.confidence - y.confidence)) {
    const fall = String(d.class_name).toLowerCase() === "fall";
    // Labels sit above the box, inside it at the image's top edge, right-aligned near its right edge.
    const place = `${d.box[1] < 0.05 * r.height ? " label-in" : ""}${d.box[0] > 0.6 * r.width ? " label-right" : ""}`;
    layer.append(boxAt(d.box, r.width, r.height, `box det${fall ? " fall" : ""}${place}`,
      { title: `${d.class_name} ${num(d.confidence)}`, data: { cls: d.class_name } },
      el("span", { class: "label" }, `${d.class_name} ${num(d.confidence)}`)));
  }
  stage.stage.append(layer);
  declutterLabels(layer, stage.img);
  stage.figure.dataset.boxesDrawn = String(Number(stage.figure.dataset.boxesDrawn) + dets.length);
  if (!stage.controls.querySelector(".det-toggle")) {
    const box = el("input", { type: "checkbox", checked: true, onchange: () => (stage.stage.dataset.det = box.checked ? "on" : "off") });
    stage.controls.append(el("label", { class: "det-toggle" }, box, " ", t("evidence.detections")));
  }
  media.card.append(caption);
}

// ---------------------------------------------------------------- text (OCR and other readers)

function showText(media, step, label) {
  const r = step.result;
  const pages = r.pages ?? [];
  const section = el("div", { class: "reading text" },
    el("p", {}, label, " ", t("evidence.text_summary", {
      pages: t("evidence.pages", { count: pages.length }), lang: r.lang ?? "?", confidence: num(step.confidence) })));
  const image = media.stage;
  for (const page of pages) {
    const lines = page.lines ?? [];
    const lineEls = [];
    if (image && page.width && page.height) {
      const lineLayer = el("div", { class: "layer ocr-lines" });
      const wordLayer = el("div", { class: "layer ocr-words" });
      lines.forEach((l, i) => {
        if (!l.box) return;
        const odd = isSuspicious(l.text, media.suspicious) ? " suspicious" : "";
        lineEls[i] = boxAt(l.box, page.width, page.height, `box ocr${l.confidence < WEAK ? " weak" : ""}${odd}`, { title: `${l.text} (${num(l.confidence)})` });
        lineLayer.append(lineEls[i]);
      });
      for (const w of page.words ?? []) {
        if (w.box) wordLayer.append(boxAt(w.box, page.width, page.height, `box ocr${w.confidence < WEAK ? " weak" : ""}`, { title: `${w.text} (${num(w.confidence)})` }));
      }
      image.stage.append(lineLayer, wordLayer);
      image.figure.dataset.ocrBoxes = String(Number(image.figure.dataset.ocrBoxes) + lineLayer.childElementCount + wordLayer.childElementCount);
      addOcrToggle(image);
    }
    const layer = page.source === "text_layer"; // a PDF page's own text, not read from pixels
    if (pages.length > 1 || layer) {
      const source = layer ? t("evidence.from_text_layer") : t("evidence.from_picture");
      section.append(el("h4", {}, t("evidence.page", { page: page.page ?? "?" }), el("span", { class: "muted small" }, ` · ${source}`)));
    }
    const list = el("ol", { class: "ocr-text" });
    lines.forEach((l, i) => {
      const hot = (on) => lineEls[i]?.classList.toggle("hot", on);
      // The draft cites lines of long evidence as "s1:p27:l4" (graphs/retrieval.py).
      const ref = `${step.step}:p${page.page ?? 1}:l${i + 1}`;
      list.append(markSuspicious(media, l.text,
        el("li", { class: l.confidence < WEAK ? "weak" : "", data: { ref }, onmouseenter: () => hot(true), onmouseleave: () => hot(false) },
          el("span", { class: "text" }, l.text), el("span", { class: "c" }, num(l.confidence)))));
    });
    if (!lines.length) list.append(el("li", { class: "muted" }, t("evidence.no_text")));
    section.append(list);
  }
  if (!pages.length) section.append(el("p", { class: "muted" }, r.text || t("evidence.no_text")));
  media.card.append(section);
}

function addOcrToggle({ stage, controls }) {
  if (controls.querySelector(".ocr-toggle")) return;
  const group = el("span", { class: "ocr-toggle", role: "group" }, `${t("evidence.ocr_boxes")} `);
  for (const mode of ["off", "lines", "words"]) {
    group.append(el("button", {
      type: "button",
      class: `seg${stage.dataset.ocr === mode ? " on" : ""}`,
      onclick: (ev) => {
        stage.dataset.ocr = mode;
        for (const b of group.querySelectorAll("button")) b.classList.toggle("on", b === ev.currentTarget);
      },
    }, t(`evidence.ocr_${mode}`)));
  }
  controls.append(group);
}

// ---------------------------------------------------------------- transcript

/**
 * A segment's text, with the words the recogniser was unsure of (probability < LOW_PROB, when
 * the tool gives per-word probabilities) marked. Words are found in the segment's own text in
 * order, so its spacing and punctuation stay as they are (English or Japanese alike).
 */
function segmentText(s) {
  const text = String(s.text ?? "").trim();
  const parts = [];
  let at = 0; // text before this is in `parts`
  let cursor = 0; // the next word is looked for from here
  for (const w of Array.isArray(s.words) ? s.words : []) {
    const word = String(w?.text ?? w?.word ?? "").trim();
    const i = word ? text.indexOf(word, cursor) : -1;
    if (i < 0) continue;
    cursor = i + word.length;
    const p = w.probability;
    if (typeof p !== "number" || p >= LOW_PROB) continue; // stays in the plain text between the marks
    parts.push(text.slice(at, i),
      el("span", { class: "word low-prob", title: t("evidence.probability", { value: num(p) }), data: { probability: String(p) } }, word));
    at = cursor;
  }
  parts.push(text.slice(at));
  return el("span", { class: "text" }, parts);
}

function showTranscript(media, step, label) {
  const r = step.result;
  const audio = media.audio;
  const segs = r.segments ?? [];
  const list = el("ol", { class: "segments" });
  const items = segs.map((s) => {
    const item = el("li", { class: s.confidence < WEAK ? "weak" : "", data: { ref: `${step.step}:t${segs.indexOf(s) + 1}` } },
      el("button", {
        type: "button", class: "seg-time", title: audio ? t("evidence.play_from_here") : "", disabled: !audio,
        onclick: () => {
          audio.currentTime = s.start;
          audio.play().catch(() => {});
        },
      }, `${clock(s.start)}–${clock(s.end)}`),
      segmentText(s),
      el("span", { class: "c" }, num(s.confidence)));
    list.append(markSuspicious(media, s.text, item));
    return item;
  });
  audio?.addEventListener("timeupdate", () => {
    segs.forEach((s, i) => items[i].classList.toggle("playing", audio.currentTime >= s.start && audio.currentTime < s.end));
  });
  media.card.append(el("div", { class: "reading transcript" },
    el("p", {}, label, " ", t("evidence.transcript_summary", {
      lang: r.language ?? "?", duration: spoken(r.duration_s, { ms: true }), confidence: num(step.confidence) })),
    segs.length ? list : el("p", { class: "muted" }, r.text || t("evidence.no_speech"))));
}

// ---------------------------------------------------------------- lines that read like instructions

const QUOTED_AFTER = "treated as data): "; // the flag's message, then the lines as Python reprs
const AS_DATA = t("evidence.reads_like_instruction");
const REPR = /'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"/g;
const ESCAPES = { n: "\n", t: "\t", r: "\r" };

const squash = (text) => String(text ?? "").normalize("NFKC").replace(/\s+/g, " ").trim().toLowerCase();

/** A Python repr's body as the text it stands for (\\, \', \n, \xNN, \uNNNN). */
function unrepr(body) {
  return body.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)/g, (_, e) =>
    e.length > 1 ? String.fromCodePoint(parseInt(e.slice(1), 16)) : (ESCAPES[e] ?? e));
}

/** The lines the job's `instruction_in_evidence` flags quote, squashed for comparison. */
export function suspiciousQuotes(job) {
  const quotes = [];
  for (const f of job.flags ?? []) {
    const message = String(f.message ?? "");
    const at = message.indexOf(QUOTED_AFTER);
    if (f.kind !== "instruction_in_evidence" || at < 0) continue;
    for (const m of message.slice(at + QUOTED_AFTER.length).matchAll(REPR)) {
      const quote = squash(unrepr(m[1] ?? m[2]));
      if (quote) quotes.push(quote);
    }
  }
  return quotes;
}

/** Whether a line of evidence contains one of the quoted lines. */
function isSuspicious(text, quotes) {
  const line = squash(text);
  return Boolean(line) && quotes.some((q) => line.includes(q));
}

/** `item` (a listed line or segment), marked and labelled when its text is a quoted line. */
function markSuspicious(media, text, item) {
  if (!isSuspicious(text, media.suspicious)) return item;
  item.classList.add("suspicious");
  item.append(el("span", { class: "suspicious-label" }, AS_DATA));
  return item;
}
