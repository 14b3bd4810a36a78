// jimoku review page: the queue, one job's evidence, and the reviewer's decision.
//
// This file only wires the page's modules together (each says what it does):
//   review/state.js      shared state, formats, uploaded files as blob: URLs, notes and toasts
//   review/queue.js      the queue, polled while the tab is visible
//   review/claims.js     holding the open job, renewing the hold, jobs others hold
//   review/job.js        opening a job: banner, question, files, steps, draft, facts
//   review/evidence.js   each file's readings, drawn by what the step produces (never by tool name)
//   review/media.js      the photo stage, the audio player, the PDF link
//   review/steps.js      the plan's steps, grouped by planning round
//   review/decision.js   approve / edit / reject
//   review/shortcuts.js  a, e, r, n and Esc
// The DOM builder and the API call (common.js) and the header and sign-in (shell.js) are
// shared with the dashboard.
//
// Every string that comes from the server (questions, OCR text, transcripts, flags, file
// names) reaches the DOM as a text node through `el()` or `textContent`. Nothing in these
// files assigns innerHTML, so a hostile question can only ever be displayed, never run.

import { el } from "./common.js";
import { openJob, openNext, reloadJob } from "./review/job.js";
import { approve, decide, setUpDecision } from "./review/decision.js";
import { setUpQueue, startPolling, stopPolling, refreshQueue } from "./review/queue.js";
import { releaseBlobs, state } from "./review/state.js";
import { focusEditor, HELP, setUpShortcuts } from "./review/shortcuts.js";
import { t } from "./i18n.js";
import { setUpShell } from "./shell.js";

async function onSignIn() {
  const wanted = decodeURIComponent(location.hash.slice(1));
  await startPolling();
  if (wanted) openJob(wanted);
  else openNext(null);
}

function onSignOut() {
  stopPolling();
  Object.assign(state, { queue: [], current: null, claim: null });
  state.token++;
  releaseBlobs();
}

function init() {
  setUpQueue({ onOpen: openJob });
  setUpDecision({ onDecided: openNext, onConflict: refreshQueue, onStale: reloadJob });
  setUpShortcuts({
    a: approve,
    e: focusEditor,
    n: () => openNext(state.current?.id ?? null),
    r: () => decide("reject"),
  });
  const help = el("p", { id: "help", class: "keys" }, HELP.map(([key, what]) => [el("kbd", {}, key), ` ${what} `]));
  setUpShell({ current: "review", title: "review", middle: help, name: t("shell.page_review"), onSignIn, onSignOut });
}

init();
