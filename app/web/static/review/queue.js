// Review page: the queue — jobs awaiting review, oldest first, polled every few seconds while
// the tab is visible, with their age, confidence, flags and who holds them.

import { $, api, el, pct, session } from "../common.js";
import { dateTime, t, timeOfDay, tOr } from "../i18n.js";
import { checkClaim, heldByOther } from "./claims.js";
import { age, level, state } from "./state.js";

const REFRESH_MS = 5000;

// Set by setUpQueue: what clicking a queue item does.
const hooks = { onOpen: (_jobId) => {} };

export function setUpQueue({ onOpen }) {
  hooks.onOpen = onOpen;
}

/** Refresh the queue now and then every REFRESH_MS, until stopPolling (sign-out). */
export async function startPolling() {
  await refreshQueue();
  scheduleRefresh();
}

export function stopPolling() {
  clearTimeout(state.refreshTimer);
}

function scheduleRefresh() {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(async () => {
    if (!document.hidden) await refreshQueue();
    if (session.key) scheduleRefresh();
  }, REFRESH_MS);
}

export async function refreshQueue() {
  try {
    const { data } = await api("/v1/reviews");
    state.queue = data;
    $("queue-status").textContent = t("queue.updated", { time: timeOfDay() });
    $("queue-status").classList.remove("error");
  } catch (e) {
    if (!session.key) return;
    $("queue-status").textContent = t("queue.refresh_failed", { error: e.message });
    $("queue-status").classList.add("error");
    return;
  }
  renderQueue();
  checkClaim();
}

/** The job after `afterId` in queue order that nobody else holds, or null. */
export function nextInQueue(afterId) {
  const q = state.queue.filter((j) => j.id !== afterId);
  const start = Math.max(0, state.queue.findIndex((j) => j.id === afterId));
  return [...q.slice(start), ...q.slice(0, start)].find((j) => !heldByOther(j)) ?? null;
}

export function renderQueue() {
  const list = $("queue-list");
  const openId = state.current?.id;
  // Rebuild only when something visible changed, so keyboard focus in the list survives refreshes.
  const signature = JSON.stringify([session.me?.name, openId, state.queue, state.queue.map((q) => age(q.created_at))]);
  if (signature === state.queueSignature) return;
  state.queueSignature = signature;
  list.replaceChildren(...state.queue.map((item) => queueItem(item, item.id === openId)));
  $("queue-count").textContent = String(state.queue.length);
  $("queue-empty").hidden = state.queue.length > 0;
  document.title = state.queue.length ? t("review.title_count", { count: state.queue.length }) : t("review.title");
}

function queueItem(item, open) {
  const flags = item.flags ?? [];
  const kinds = new Map();
  for (const f of flags) kinds.set(f.kind, (kinds.get(f.kind) ?? 0) + 1);
  return el("li", { class: open ? "current" : "" },
    el("button", { type: "button", class: "item", data: { jobId: item.id }, onclick: () => hooks.onOpen(item.id) },
      el("span", { class: "item-q" }, item.question),
      el("span", { class: "item-meta" },
        el("span", { class: "age", title: dateTime(item.created_at) }, age(item.created_at)),
        el("span", { class: `conf-chip ${level(item.confidence)}`, title: t("queue.confidence") }, pct(item.confidence)),
        flags.length
          ? el("span", { class: "badge flag", title: flags.map((f) => f.message).join("\n") }, t("queue.flags", { count: flags.length }))
          : el("span", { class: "badge clear" }, t("queue.no_flags")),
        (item.approvals_needed ?? 1) > 1
          ? el("span", { class: "badge approvals", title: t("queue.approvals_title", { count: (item.approvals ?? []).length, needed: item.approvals_needed }) },
            t("queue.approvals", { count: (item.approvals ?? []).length, needed: item.approvals_needed }))
          : null,
        heldByOther(item)
          ? el("span", { class: "badge held", title: t("queue.claimed_until", { time: item.claimed_until ? dateTime(item.claimed_until) : "?" }) },
            t("queue.held", { name: item.claimed_by }))
          : null),
      kinds.size
        ? el("span", { class: "item-kinds" }, [...kinds].map(([k, n]) => el("span", { class: "kind", title: k, data: { kind: k } },
          n > 1 ? `${tOr("flags", k, k)} ×${n}` : tOr("flags", k, k))))
        : null));
}
