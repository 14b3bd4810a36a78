// jimoku review page: the queue, one job's evidence, and the reviewer's decision.
//
// Every string that comes from the server (questions, OCR text, transcripts, flags, file
// names) reaches the DOM as a text node through `el()` or `textContent`. Nothing in this
// file assigns innerHTML, so a hostile question can only ever be displayed, never run.
// The DOM builder, the API call and the sign-in are shared with the dashboard (common.js).

import { $, api, el, pct, plural, session, setUpSignIn } from "./common.js";

const REFRESH_MS = 5000;
const CLAIM_RENEW_MS = 60_000; // renew our claim when less than this is left on it
const TOAST_MS = 9000;

const state = {
  queue: [],
  current: null, // the open job document
  claim: null, // our claim on the open job ({claimed_until}), or null
  claimBlocked: false, // another reviewer holds the open job
  decided: false,
  busy: false,
  token: 0, // bumped whenever a job opens, so late responses for an old job are dropped
  blobUrls: [],
  stepEls: new Map(), // step id -> <details>, for citation and flag links
  queueSignature: "",
  refreshTimer: null,
  toastTimer: null,
};

// ---------------------------------------------------------------- helpers

const level = (x) => (x == null ? "none" : x < 0.5 ? "low" : x < 0.8 ? "mid" : "high");
const num = (x, d = 2) => (x == null ? "—" : Number(x).toFixed(d));

function age(iso) {
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (!Number.isFinite(s)) return "";
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d`;
}

const duration = (ms) => (ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);

function clock(seconds) {
  const m = Math.floor(seconds / 60);
  return `${m}:${(seconds - m * 60).toFixed(1).padStart(4, "0")}`;
}

/** An uploaded file as a blob: URL (the artifact route needs our header, <img> cannot send it). */
async function artifactUrl(sha256, type) {
  let blob = await api(`/v1/artifacts/${encodeURIComponent(sha256)}`, { blob: true });
  if (type && blob.type !== type) blob = new Blob([blob], { type });
  const url = URL.createObjectURL(blob);
  state.blobUrls.push(url);
  return url;
}

function releaseBlobs() {
  for (const url of state.blobUrls) URL.revokeObjectURL(url);
  state.blobUrls = [];
}

function toast(text, kind = "ok") {
  const box = $("toast");
  box.textContent = text;
  box.className = `toast ${kind}`;
  box.hidden = false;
  clearTimeout(state.toastTimer);
  state.toastTimer = setTimeout(() => (box.hidden = true), TOAST_MS);
}

// ---------------------------------------------------------------- sign in / out

async function onSignIn() {
  const wanted = decodeURIComponent(location.hash.slice(1));
  await refreshQueue();
  scheduleRefresh();
  if (wanted) openJob(wanted);
  else openNext(null);
}

function onSignOut() {
  clearTimeout(state.refreshTimer);
  Object.assign(state, { queue: [], current: null, claim: null });
  state.token++;
  releaseBlobs();
}

// ---------------------------------------------------------------- queue

function scheduleRefresh() {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(async () => {
    if (!document.hidden) await refreshQueue();
    if (session.key) scheduleRefresh();
  }, REFRESH_MS);
}

async function refreshQueue() {
  try {
    const { data } = await api("/v1/reviews");
    state.queue = data;
    $("queue-status").textContent = `updated ${new Date().toLocaleTimeString()}`;
    $("queue-status").classList.remove("error");
  } catch (e) {
    if (!session.key) return;
    $("queue-status").textContent = `refresh failed: ${e.message}`;
    $("queue-status").classList.add("error");
    return;
  }
  renderQueue();
  const job = state.current;
  if (job && !state.decided && !state.queue.some((q) => q.id === job.id) && job.status === "awaiting_review") {
    showNote("This job has left the queue (decided elsewhere?). Press n for the next one.", "warn");
    state.claimBlocked = true;
    updateButtons();
  }
  if (state.claim && !state.decided && Date.parse(state.claim.claimed_until) - Date.now() < CLAIM_RENEW_MS) {
    claim(job.id, state.token);
  }
}

function renderQueue() {
  const list = $("queue-list");
  const openId = state.current?.id;
  // Rebuild only when something visible changed, so keyboard focus in the list survives refreshes.
  const signature = JSON.stringify([session.me?.name, openId, state.queue, state.queue.map((q) => age(q.created_at))]);
  if (signature === state.queueSignature) return;
  state.queueSignature = signature;
  list.replaceChildren(
    ...state.queue.map((item) => {
      const flags = item.flags ?? [];
      const kinds = new Map();
      for (const f of flags) kinds.set(f.kind, (kinds.get(f.kind) ?? 0) + 1);
      return el(
        "li",
        { class: item.id === openId ? "current" : "" },
        el(
          "button",
          { type: "button", class: "item", data: { jobId: item.id }, onclick: () => openJob(item.id) },
          el("span", { class: "item-q" }, item.question),
          el(
            "span",
            { class: "item-meta" },
            el("span", { class: "age", title: item.created_at }, age(item.created_at)),
            el("span", { class: `conf-chip ${level(item.confidence)}`, title: "confidence" }, pct(item.confidence)),
            flags.length
              ? el("span", { class: "badge flag", title: flags.map((f) => f.message).join("\n") }, plural(flags.length, "flag"))
              : el("span", { class: "badge clear" }, "no flags"),
            heldByOther(item)
              ? el("span", { class: "badge held", title: `claimed until ${item.claimed_until ?? "?"}` }, `held · ${item.claimed_by}`)
              : null,
          ),
          kinds.size
            ? el("span", { class: "item-kinds" }, [...kinds].map(([k, n]) => el("span", { class: "kind" }, n > 1 ? `${k} ×${n}` : k)))
            : null,
        ),
      );
    }),
  );
  $("queue-count").textContent = String(state.queue.length);
  $("queue-empty").hidden = state.queue.length > 0;
  document.title = `${state.queue.length ? `(${state.queue.length}) ` : ""}jimoku · review`;
}

/** Another reviewer holds a live claim on this queue item. */
function heldByOther(item) {
  if (!item.claimed_by || item.claimed_by === session.me?.name) return false;
  return !item.claimed_until || Date.parse(item.claimed_until) > Date.now();
}

/** Open the job after `afterId` in queue order that nobody else holds. */
function openNext(afterId) {
  const q = state.queue.filter((j) => j.id !== afterId);
  const start = Math.max(0, state.queue.findIndex((j) => j.id === afterId));
  const ordered = [...q.slice(start), ...q.slice(0, start)];
  const next = ordered.find((j) => !heldByOther(j));
  if (next) return openJob(next.id);
  closeJob(q.length ? "Every job in the queue is held by another reviewer." : "Queue is empty. New jobs appear on their own.");
}

function closeJob(message) {
  state.token++;
  releaseBlobs();
  Object.assign(state, { current: null, claim: null, claimBlocked: false, decided: false });
  history.replaceState(null, "", location.pathname);
  $("job-view").hidden = true;
  $("job-empty").hidden = false;
  $("job-empty").textContent = message;
  renderQueue();
}

// ---------------------------------------------------------------- one job

async function claim(jobId, token) {
  try {
    const c = await api(`/v1/reviews/${encodeURIComponent(jobId)}/claim`, { method: "POST" });
    if (token === state.token) state.claim = c;
    return null;
  } catch (e) {
    if (token === state.token) {
      state.claim = null;
      state.claimBlocked = e.status === 409;
    }
    return e;
  }
}

async function openJob(jobId) {
  const token = ++state.token;
  releaseBlobs();
  Object.assign(state, { claim: null, claimBlocked: false, decided: false });
  $("job").classList.add("loading");
  history.replaceState(null, "", `#${encodeURIComponent(jobId)}`);
  const [claimError, job] = await Promise.all([
    claim(jobId, token),
    api(`/v1/jobs/${encodeURIComponent(jobId)}`).catch((e) => e),
  ]);
  if (token !== state.token) return;
  $("job").classList.remove("loading");
  if (job instanceof Error) {
    closeJob(`Could not open job ${jobId}: ${job.message}`);
    return;
  }
  state.current = job;
  renderJob(job, token);
  if (claimError && job.status === "awaiting_review") {
    const why = claimError.status === 409 ? "Another reviewer is on this job" : "Could not claim this job";
    showNote(`${why}: ${claimError.message}`, claimError.status === 409 ? "warn" : "error");
  }
  renderQueue();
}

function showNote(text, kind) {
  const note = $("claim-note");
  note.textContent = text;
  note.className = `claim-note ${kind}`;
  note.hidden = false;
}

function renderJob(job, token) {
  $("job-empty").hidden = true;
  $("job-view").hidden = false;
  $("claim-note").hidden = true;
  $("decision-error").textContent = "";
  state.stepEls = new Map();

  renderBanner(job);
  $("question").textContent = job.question;
  $("job-meta").textContent = [
    `job ${job.id}`,
    job.status.replace("_", " "),
    `submitted ${age(job.created_at)} ago`,
    plural(job.files.length, "file"),
  ].join(" · ");

  $("steps").replaceChildren(...renderSteps(job));
  $("plan-notes").replaceChildren(...(job.plan_notes ?? []).map((n) => el("li", {}, n)));
  $("files").replaceChildren(...job.files.map((f) => renderFile(f, job, token)));
  $("facts").replaceChildren(
    ...((job.facts ?? []).length ? job.facts.map((f) => el("li", {}, f)) : [el("li", { class: "muted" }, "none")]),
  );
  const cites = job.citations ?? [];
  $("citations").replaceChildren(
    ...(cites.length ? ["cites ", ...cites.map((s) => stepChip(s))] : ["cites no step"]),
  );

  $("answer").value = job.draft_answer ?? "";
  $("comment").value = "";
  if (job.error) showNote(`Error: ${job.error}`, "error");
  if (job.status !== "awaiting_review") {
    const r = job.review;
    const how = r ? `${r.decision} by ${r.reviewer ?? "?"}${r.comment ? ` — “${r.comment}”` : ""}` : "";
    showNote(`This job is ${job.status.replace("_", " ")}${how ? `: ${how}` : ""}.`, "warn");
  }
  updateButtons();
  $("job").scrollTop = 0;
}

function renderBanner(job) {
  const flags = job.flags ?? [];
  $("banner").className = `banner ${flags.length ? "flagged" : "clear"}`;
  $("banner").dataset.flags = String(flags.length);
  $("conf-value").textContent = pct(job.confidence);
  $("conf-value").className = `conf-value ${level(job.confidence)}`;
  $("conf-fill").style.width = `${Math.round((job.confidence ?? 0) * 100)}%`;
  $("conf-fill").className = `conf-fill ${level(job.confidence)}`;
  $("flags-title").textContent = flags.length ? `${plural(flags.length, "flag")} to check` : "No flags raised";
  $("flags-list").replaceChildren(
    ...flags.map((f) =>
      el("li", {}, el("span", { class: "pill flag" }, f.kind), " ", f.message, " ", (f.steps ?? []).map((s) => stepChip(s))),
    ),
  );
  $("conf-explained").textContent = job.confidence_explained ?? "";
}

/** A small button naming a step; it opens that step's details and scrolls to it. */
function stepChip(stepId) {
  return el("button", {
    type: "button",
    class: "chip",
    title: "show this step",
    onclick: () => {
      const d = state.stepEls.get(stepId);
      if (!d) return;
      d.open = true;
      d.scrollIntoView({ behavior: "smooth", block: "center" });
      d.classList.add("hot");
      setTimeout(() => d.classList.remove("hot"), 1500);
    },
  }, stepId);
}

// ---------------------------------------------------------------- files and their evidence

function renderFile(file, job, token) {
  const steps = (job.steps ?? []).filter((s) => s.file === file.id);
  const card = el("article", { class: `file ${file.kind}`, data: { fileId: file.id } });
  card.append(
    el(
      "header",
      { class: "file-head" },
      el("span", { class: "pill" }, file.kind),
      el("strong", { class: "file-name" }, file.name),
      el("span", { class: "muted small" }, `${file.id} · sha256 ${file.sha256.slice(0, 12)}…`),
    ),
  );
  const media = { card };
  const loadUrl = (type) =>
    artifactUrl(file.sha256, type).then((url) => {
      if (token !== state.token) URL.revokeObjectURL(url);
      return url;
    });

  if (file.kind === "image") media.stage = renderImage(card, loadUrl);
  if (file.kind === "audio") media.audio = renderAudio(card, loadUrl);
  if (file.kind === "document") renderDocument(card, file, loadUrl);

  for (const step of steps) {
    if (!step.ok || !step.result) {
      card.append(el("p", { class: "step-error" }, `${step.step} ${step.tool} failed (${step.error_kind ?? "error"}): ${step.error ?? "no result"}`));
    } else if (step.tool === "detect") drawDetections(media, step);
    else if (step.tool === "ocr") showOcr(media, step);
    else if (step.tool === "asr") showTranscript(media, step);
    else card.append(el("p", { class: "reading" }, el("span", { class: "pill" }, `${step.step} ${step.tool}`), " ", step.summary));
  }
  if (!steps.length) card.append(el("p", { class: "muted small" }, "No step read this file."));
  return card;
}

function renderImage(card, loadUrl) {
  const img = el("img", { alt: "uploaded photo" });
  const stage = el("div", { class: "stage", data: { ocr: "lines", det: "on" } }, img);
  const figure = el("figure", { class: "figure", data: { boxesDrawn: "0", ocrBoxes: "0" } }, stage);
  const controls = el("div", { class: "overlay-controls" });
  figure.append(controls);
  card.append(figure);
  loadUrl()
    .then((url) => (img.src = url))
    .catch((e) => figure.append(el("p", { class: "step-error" }, `Could not load the image: ${e.message}`)));
  return { figure, stage, controls, img };
}

/** A box positioned in percent of the image's own size, so it follows any display size. */
function boxAt([x0, y0, x1, y1], width, height, cls, props = {}, ...children) {
  const pc = (v) => `${(v * 100).toFixed(3)}%`;
  return el("div", {
    class: cls,
    style: { left: pc(x0 / width), top: pc(y0 / height), width: pc((x1 - x0) / width), height: pc((y1 - y0) / height) },
    ...props,
  }, ...children);
}

function drawDetections(media, step) {
  const r = step.result;
  const dets = r.detections ?? [];
  const counts = Object.entries(r.counts ?? {}).map(([k, n]) => `${n} ${k}`).join(" · ") || "nothing found";
  const caption = el("p", { class: "reading" }, el("span", { class: "pill" }, `${step.step} detect`), " ", counts, ` (mean confidence ${num(step.confidence)})`);
  if (!media.stage) return media.card.append(caption);
  const { stage, figure, controls } = media.stage;
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
  stage.append(layer);
  figure.dataset.boxesDrawn = String(Number(figure.dataset.boxesDrawn) + dets.length);
  if (!controls.querySelector(".det-toggle")) {
    const box = el("input", { type: "checkbox", checked: true, onchange: () => (stage.dataset.det = box.checked ? "on" : "off") });
    controls.append(el("label", { class: "det-toggle" }, box, " detections"));
  }
  media.card.append(caption);
}

function showOcr(media, step) {
  const r = step.result;
  const pages = r.pages ?? [];
  const section = el("div", { class: "reading ocr" },
    el("p", {}, el("span", { class: "pill" }, `${step.step} ocr`), " ",
      `${plural(pages.length, "page")}, lang ${r.lang ?? "?"}, mean confidence ${num(step.confidence)}`));
  const image = media.stage;
  for (const page of pages) {
    const lineEls = [];
    if (image && page.width && page.height) {
      const lines = el("div", { class: "layer ocr-lines" });
      const words = el("div", { class: "layer ocr-words" });
      page.lines.forEach((l, i) => {
        if (!l.box) return;
        const b = boxAt(l.box, page.width, page.height, `box ocr${l.confidence < 0.6 ? " weak" : ""}`, { title: `${l.text} (${num(l.confidence)})` });
        lines.append(b);
        lineEls[i] = b;
      });
      for (const w of page.words ?? []) {
        if (w.box) words.append(boxAt(w.box, page.width, page.height, `box ocr${w.confidence < 0.6 ? " weak" : ""}`, { title: `${w.text} (${num(w.confidence)})` }));
      }
      image.stage.append(lines, words);
      image.figure.dataset.ocrBoxes = String(Number(image.figure.dataset.ocrBoxes) + lines.childElementCount + words.childElementCount);
      addOcrToggle(image);
    }
    if (pages.length > 1 || page.source !== "ocr") {
      section.append(el("h4", {}, `Page ${page.page}`, el("span", { class: "muted small" }, ` · ${page.source === "ocr" ? "read by OCR" : `source: ${String(page.source).replace("_", " ")}`}`)));
    }
    const list = el("ol", { class: "ocr-text" });
    page.lines.forEach((l, i) => {
      const hot = (on) => lineEls[i]?.classList.toggle("hot", on);
      list.append(el("li", { class: l.confidence < 0.6 ? "weak" : "", onmouseenter: () => hot(true), onmouseleave: () => hot(false) },
        el("span", { class: "text" }, l.text), el("span", { class: "c" }, num(l.confidence))));
    });
    if (!page.lines.length) list.append(el("li", { class: "muted" }, "no text found"));
    section.append(list);
  }
  media.card.append(section);
}

function addOcrToggle({ stage, controls }) {
  if (controls.querySelector(".ocr-toggle")) return;
  const group = el("span", { class: "ocr-toggle", role: "group" }, "OCR boxes ");
  for (const mode of ["off", "lines", "words"]) {
    group.append(el("button", {
      type: "button",
      class: `seg${stage.dataset.ocr === mode ? " on" : ""}`,
      onclick: (ev) => {
        stage.dataset.ocr = mode;
        for (const b of group.querySelectorAll("button")) b.classList.toggle("on", b === ev.currentTarget);
      },
    }, mode));
  }
  controls.append(group);
}

function renderAudio(card, loadUrl) {
  const audio = el("audio", { controls: true, preload: "metadata", class: "player" });
  card.append(audio);
  loadUrl()
    .then((url) => (audio.src = url))
    .catch((e) => card.append(el("p", { class: "step-error" }, `Could not load the recording: ${e.message}`)));
  return audio;
}

function showTranscript(media, step) {
  const r = step.result;
  const audio = media.audio;
  const segs = r.segments ?? [];
  const list = el("ol", { class: "segments" });
  const items = segs.map((s) => {
    const item = el("li", { class: s.confidence < 0.6 ? "weak" : "" },
      el("button", {
        type: "button", class: "seg-time", title: "play from here",
        onclick: () => {
          if (!audio) return;
          audio.currentTime = s.start;
          audio.play().catch(() => {});
        },
      }, `${clock(s.start)}–${clock(s.end)}`),
      el("span", { class: "text" }, s.text),
      el("span", { class: "c" }, num(s.confidence)));
    list.append(item);
    return item;
  });
  audio?.addEventListener("timeupdate", () => {
    segs.forEach((s, i) => items[i].classList.toggle("playing", audio.currentTime >= s.start && audio.currentTime < s.end));
  });
  media.card.append(el("div", { class: "reading asr" },
    el("p", {}, el("span", { class: "pill" }, `${step.step} asr`), " ",
      `transcript · ${r.language ?? "?"} · ${num(r.duration_s, 1)} s · confidence ${num(step.confidence)}`),
    segs.length ? list : el("p", { class: "muted" }, r.text || "no speech found")));
}

function renderDocument(card, file, loadUrl) {
  const links = el("p", { class: "doc-links" }, el("span", { class: "muted" }, "loading…"));
  card.append(links);
  loadUrl("application/pdf")
    .then((url) => links.replaceChildren(
      el("a", { href: url, target: "_blank", rel: "noopener" }, "Open the PDF"), " · ",
      el("a", { href: url, download: file.name }, "download")))
    .catch((e) => links.replaceChildren(el("span", { class: "step-error" }, `Could not load the PDF: ${e.message}`)));
}

// ---------------------------------------------------------------- plan and steps

function renderSteps(job) {
  const byId = new Map((job.steps ?? []).map((s) => [s.step, s]));
  const fileName = (id) => job.files.find((f) => f.id === id)?.name ?? id;
  const planned = (job.plan ?? []).map((p) => [p, byId.get(p.id)]);
  const extra = (job.steps ?? []).filter((s) => !(job.plan ?? []).some((p) => p.id === s.step)).map((s) => [null, s]);
  const rows = [...planned, ...extra];
  if (!rows.length) return [el("p", { class: "muted" }, "The planner chose no step.")];
  return rows.map(([plan, run]) => {
    const id = plan?.id ?? run.step;
    const tool = plan?.tool ?? run.tool;
    const args = plan?.args && Object.keys(plan.args).length ? JSON.stringify(plan.args) : "";
    const status = !run ? "pending" : run.ok ? "ok" : "failed";
    const details = el("details", { class: `step ${status}`, open: status === "failed", data: { step: id } },
      el("summary", {},
        el("span", { class: `dot ${status}`, title: status }),
        el("strong", {}, id), ` ${tool} on ${fileName(plan?.file ?? run.file)}`,
        args ? el("code", { class: "args" }, args) : null,
        plan?.origin === "coverage" ? el("span", { class: "pill", title: "added in code: the plan left this file unread" }, "coverage") : null,
        run?.cached ? el("span", { class: "pill" }, "cached") : null,
        el("span", { class: "step-meta" }, run ? `${duration(run.duration_ms)} · conf ${num(run.confidence)}` : "not run")),
      run?.summary ? el("pre", { class: "summary" }, run.summary) : null,
      run && !run.ok ? el("p", { class: "step-error" }, `${run.error_kind ?? "error"}: ${run.error ?? "no detail"}`) : null,
      run?.result ? el("details", { class: "raw" }, el("summary", {}, "raw result"), el("pre", {}, JSON.stringify(run.result, null, 2))) : null);
    state.stepEls.set(id, details);
    return details;
  });
}

// ---------------------------------------------------------------- decision

const draftText = () => (state.current?.draft_answer ?? "").trim();
const isEdited = () => $("answer").value.trim() !== draftText();

function updateButtons() {
  const job = state.current;
  const open = !!job && job.status === "awaiting_review" && !state.claimBlocked && !state.decided && !state.busy;
  const edited = !!job && isEdited();
  $("btn-approve").disabled = !open || edited;
  $("btn-approve").title = edited ? "You changed the draft: use Save edit & approve, or reset to the draft" : "";
  $("btn-edit").disabled = !open || !edited || !$("answer").value.trim();
  $("btn-reject").disabled = !open;
  $("edited").hidden = !edited;
  $("reset-draft").hidden = !edited;
}

async function decide(decision) {
  const job = state.current;
  if (!job || $("btn-reject").disabled) return;
  const answer = $("answer").value.trim();
  const comment = $("comment").value.trim();
  if (decision === "reject" && !comment) {
    $("decision-error").textContent = "Say why in the comment before rejecting.";
    $("comment").focus();
    return;
  }
  const body = { decision };
  if (decision === "edit") body.answer = answer;
  if (comment) body.comment = comment;
  state.busy = true;
  updateButtons();
  $("decision-error").textContent = "";
  try {
    const doc = await api(`/v1/reviews/${encodeURIComponent(job.id)}`, { method: "POST", json: body });
    state.decided = true;
    const verb = { approve: "Approved", edit: "Edited and approved", reject: "Rejected" }[decision];
    toast(`${verb} job ${job.id} (${doc.status}). ${doc.final_answer != null ? `Final answer: ${doc.final_answer}` : `Comment: ${comment}`}`,
      decision === "reject" ? "warn" : "ok");
    state.queue = state.queue.filter((q) => q.id !== job.id);
    openNext(job.id);
  } catch (e) {
    $("decision-error").textContent = `Not saved: ${e.message}`;
    if (e.status === 409) refreshQueue();
  } finally {
    state.busy = false;
    updateButtons();
  }
}

// ---------------------------------------------------------------- wiring

function onKey(ev) {
  if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.isComposing || $("app").hidden) return;
  const typing = ev.target instanceof Element && ev.target.closest("input, textarea, select, [contenteditable]");
  if (typing) {
    if (ev.key === "Escape") ev.target.blur();
    return;
  }
  const actions = {
    a: () => (isEdited() ? $("btn-edit") : $("btn-approve")).click(),
    n: () => openNext(state.current?.id ?? null),
    e: () => {
      const editor = $("answer");
      editor.focus();
      editor.setSelectionRange(editor.value.length, editor.value.length);
    },
    r: () => decide("reject"),
  };
  const action = actions[ev.key];
  if (!action) return;
  ev.preventDefault(); // "e" must not type an e into the editor it focuses
  action();
}

function init() {
  $("answer").addEventListener("input", updateButtons);
  $("reset-draft").addEventListener("click", () => {
    $("answer").value = state.current?.draft_answer ?? "";
    updateButtons();
  });
  $("btn-approve").addEventListener("click", () => decide("approve"));
  $("btn-edit").addEventListener("click", () => decide("edit"));
  $("btn-reject").addEventListener("click", () => decide("reject"));
  document.addEventListener("keydown", onKey);
  setUpSignIn({ name: "the review page", onSignIn, onSignOut });
}

init();
